/** Logging gaps from the trail's own management events: pure, shared by every evidence source. */
import type { CoverageGap } from './types.js';

/** A successful StopLogging, StartLogging or DeleteTrail call, as the gap pairing reads it. */
export interface LoggingRow {
  readonly t: string;
  readonly name: string;
  readonly trail: string | null;
  readonly account: string | null;
  readonly region: string | null;
}

/**
 * Pairs each stop (or deletion) of a trail with its next start, by time; a stop never
 * followed by a start is open to the end of the evidence. Keeps the gaps that overlap the window.
 */
export function pairLoggingGaps(rows: readonly LoggingRow[], window: { readonly since?: Date; readonly until?: Date }): CoverageGap[] {
  const open = new Map<string, LoggingRow>();
  const gaps: CoverageGap[] = [];
  const close = (key: string, to: string | null) => {
    const stopped = open.get(key)!;
    open.delete(key);
    gaps.push({
      kind: 'logging-stopped',
      account: stopped.account,
      region: stopped.region,
      from: stopped.t,
      to,
      detail: `${stopped.name} on trail ${stopped.trail ?? '(unnamed)'}${to ? '' : '; no StartLogging in the evidence'}`,
    });
  };
  for (const row of rows) {
    const key = `${row.account}|${trailName(row.trail)}`;
    if (row.name === 'StartLogging') {
      if (open.has(key)) close(key, row.t);
    } else if (!open.has(key)) {
      open.set(key, row);
    }
  }
  for (const key of [...open.keys()]) close(key, null);
  return gaps.filter((g) => overlaps(g.from, g.to, window));
}

/** A trail named by ARN or by name is the same trail. */
function trailName(trail: string | null): string {
  return (trail ?? '').split('/').pop() ?? '';
}

export function overlaps(from: string | null, to: string | null, window: { readonly since?: Date; readonly until?: Date }): boolean {
  if (window.until && from && Date.parse(from) >= window.until.getTime()) return false;
  if (window.since && to && Date.parse(to) < window.since.getTime()) return false;
  return true;
}
