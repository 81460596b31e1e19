import { SNAPSHOT_FORMAT } from '../snapshot/types.js';

/** How a file's records are wrapped. */
export type Container = 'records' | 'events' | 'array' | 'object' | 'jsonl';

/** What a look at the start of a file found. */
export type Sniffed =
  | { readonly kind: 'events'; readonly container: Container; readonly embedded: boolean; readonly format: string }
  | { readonly kind: 'digest' }
  /** A `trailhound snapshot --out` document: the account's live state, not events. */
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'skip'; readonly reason: string };

const RECORD_KEYS = /"(eventVersion|eventTime|eventSource|eventName|eventID)"\s*:/;
const EMBEDDED_KEY = /"CloudTrailEvent"\s*:\s*"/;
const SNAPSHOT_KEY = new RegExp(`^\\{\\s*"format"\\s*:\\s*"${SNAPSHOT_FORMAT}"`);
const DIGEST_KEYS = /"digestStartTime"\s*:|"digestEndTime"\s*:|"digestS3Object"\s*:/;

/**
 * Classifies a file from its first bytes (decompressed): the Records-wrapped log file, the
 * `lookup-events` output, a bare array, one record, JSON Lines, or a digest; anything else is
 * a skip with the reason.
 */
export function sniff(head: string): Sniffed {
  const text = head.replace(/^\uFEFF/, '');
  const start = text.search(/\S/);
  if (start < 0) return { kind: 'skip', reason: 'empty file (no JSON in it)' };
  const first = text[start];
  const body = text.slice(start);
  const embedded = EMBEDDED_KEY.test(body);
  if (first === '[') {
    const element = body.slice(1).search(/\S/);
    const next = element < 0 ? undefined : body[element + 1];
    if (next === ']') return { kind: 'skip', reason: 'empty JSON array: no records in it' };
    if (next !== undefined && next !== '{') return { kind: 'skip', reason: 'a JSON array of non-objects: not CloudTrail records' };
    if (!embedded && !RECORD_KEYS.test(body)) return { kind: 'skip', reason: 'a JSON array whose objects are not CloudTrail records (no eventTime/eventName)' };
    return { kind: 'events', container: 'array', embedded, format: embedded ? 'event-history-array' : 'array' };
  }
  if (first !== '{') return { kind: 'skip', reason: 'not JSON (does not start with { or [)' };
  if (/^\{\s*"Records"\s*:/.test(body) || /"Records"\s*:\s*\[/.test(body.slice(0, 4096))) {
    return { kind: 'events', container: 'records', embedded, format: embedded ? 'event-history-records' : 'records' };
  }
  if (/"Events"\s*:\s*\[/.test(body) && embedded) {
    return { kind: 'events', container: 'events', embedded: true, format: 'lookup-events' };
  }
  if (DIGEST_KEYS.test(body)) return { kind: 'digest' };
  if (SNAPSHOT_KEY.test(body.slice(0, 4096))) return { kind: 'snapshot' };
  if (embedded || RECORD_KEYS.test(body)) {
    const lineEnd = body.indexOf('\n');
    const firstLine = lineEnd < 0 ? body : body.slice(0, lineEnd);
    if (parsesAsObject(firstLine)) {
      return { kind: 'events', container: 'jsonl', embedded, format: 'jsonl' };
    }
    return { kind: 'events', container: 'object', embedded, format: 'object' };
  }
  return { kind: 'skip', reason: 'JSON that is not CloudTrail (no Records, Events or record fields)' };
}

function parsesAsObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
