/**
 * The evidence a timeline and a remediation plan are built from: findings and the events
 * behind them, each event with where it came from. Plain data; nothing here reads the store.
 */
import type { EventCore } from '../analyze/source.js';
import type { Finding } from '../detect/runner.js';

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
  if (Array.isArray(value)) {
    for (const item of value) stringsUnder(item, key, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key && (typeof v === 'string' || typeof v === 'number')) out.push(String(v));
      else if (k === key && Array.isArray(v)) for (const item of v) if (typeof item === 'string') out.push(item);
      stringsUnder(v, key, out);
    }
  }
  return out;
}

/** The first string under `key` (see stringsUnder), or null. */
export function firstUnder(value: unknown, key: string): string | null {
  return stringsUnder(value, key)[0] ?? null;
}
