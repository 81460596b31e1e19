import type { Severity } from './catalog.js';

/** One thing a detection found, traceable to its events. */
export interface Finding {
  readonly detection: string;
  readonly title: string;
  readonly severity: Severity;
  readonly outcome: 'success' | 'attempt';
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly eventIds: readonly string[];
  readonly eventTime: string | null;
  readonly eventName: string | null;
  readonly actor: string | null;
  readonly accessKeyId: string | null;
  readonly sourceIp: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly resource: string | null;
  readonly summary: string | null;
}

/** Sorts findings in place by event time, first event id, then detection: the order every engine reports. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => compare(a.eventTime, b.eventTime) || compare(a.eventIds[0] ?? null, b.eventIds[0] ?? null) || compare(a.detection, b.detection));
}

function compare(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

