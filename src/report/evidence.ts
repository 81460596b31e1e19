/**
 * The evidence a timeline and a remediation plan are built from: findings and the events
 * behind them, each event with where it came from. Plain data; nothing here reads the store.
 */
import type { EventCore } from '../analyze/source.js';
import type { Finding } from '../detect/finding.js';

/** Where an event was read from: the input file (and its hash) and its place in that file. */
export interface Provenance {
  readonly uri: string;
  readonly sha256: string | null;
  /** Position in the file's `Records`/`Events` array; null for other shapes. */
  readonly recordIndex: number | null;
  readonly runId: string;
}

/** One CloudTrail event with the fields reports and plans need; JSON parts parsed. */
export interface EvidenceEvent extends EventCore {
  readonly requestParameters: unknown;
  readonly responseElements: unknown;
  readonly provenance: Provenance | null;
}

export type { Finding };

/** Sorts events by time, then event id (the order every output uses). */
export function byTimeThenId(a: { eventTime: string; eventId: string }, b: { eventTime: string; eventId: string }): number {
  return a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/**
 * Every string found under a property named `key`, anywhere in a parsed JSON value, in
 * document order. CloudTrail nests the same id differently across API versions
 * (`instancesSet.items[].instanceId`, `RequestSpotFleetResponse.spotFleetRequestId`…).
 */
export function stringsUnder(value: unknown, key: string, out: string[] = []): string[] {
  // An explicit stack (a record may nest deeply): each entry is a value to walk, or a matched value to emit.
  const stack: Array<{ walk: unknown } | { emit: unknown }> = [{ walk: value }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('emit' in item) {
      const v = item.emit;
      if (typeof v === 'string' || typeof v === 'number') out.push(String(v));
      else if (Array.isArray(v)) for (const element of v) if (typeof element === 'string') out.push(element);
      continue;
    }
    const current = item.walk;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ walk: current[i] });
    } else if (current && typeof current === 'object') {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        stack.push({ walk: v });
        if (k === key) stack.push({ emit: v });
      }
    }
  }
  return out;
}

/** The first string under `key` (see stringsUnder), or null. */
export function firstUnder(value: unknown, key: string): string | null {
  return stringsUnder(value, key)[0] ?? null;
}
