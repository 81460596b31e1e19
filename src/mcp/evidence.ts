/**
 * The two reads of the store the other commands have no call for: the original records of
 * some events, and a bounded search over the stored pivot columns.
 */
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { filteredSql, whereOf } from '../analyze/duckdb-source.js';
import type { EventFilter } from '../analyze/source.js';
import { loadEvents } from '../report/from-store.js';
import type { EvidenceEvent } from '../report/evidence.js';
import type { Store } from '../store/store.js';

/** An event as it was logged, with the file it came from. */
export interface OriginalRecord {
  readonly eventId: string;
  /** The record as parsed at ingest, every field kept. */
  readonly record: unknown;
  readonly provenance: { readonly uri: string | null; readonly sha256: string | null; readonly recordIndex: number | null; readonly runId: string };
}

/** The original records of these event ids (or `sha256:` keys), by time; unknown ids are left out. */
export async function loadRecords(store: Store, eventIds: readonly string[]): Promise<OriginalRecord[]> {
  const ids = [...new Set(eventIds)].sort();
  if (ids.length === 0) return [];
  const rows = await store.all<{ eventkey: string; record: string; uri: string | null; sha256: string | null; record_index: number | null; run_id: string }>(
    `select e.eventkey, e.record::varchar as record, i.uri, i.sha256, e.record_index, e.run_id
     from event_rows e
     left join inputs i using (input_id)
     where list_contains($ids, e.eventkey)
     order by e.eventtime, e.eventkey`,
    { ids: listValue(ids) },
    { ids: LIST(VARCHAR) },
  );
  return rows.map((r) => ({
    eventId: r.eventkey,
    record: JSON.parse(r.record) as unknown,
    provenance: { uri: r.uri, sha256: r.sha256, recordIndex: r.record_index, runId: r.run_id },
  }));
}

/** A search: the analyze filter (keys, addresses, principals, sessions, names, window) plus event sources and error codes. */
export interface EventSearch extends Omit<EventFilter, 'limit' | 'readOnlyDetail'> {
  readonly eventSources?: readonly string[];
  /** Error codes to match; `*` matches any failed call. */
  readonly errorCodes?: readonly string[];
  /** At most this many events, earliest first. */
  readonly limit: number;
}

/** The events a search matches, earliest first, and whether more matched than the limit. */
export async function searchEvents(store: Store, search: EventSearch): Promise<{ events: EvidenceEvent[]; more: boolean }> {
  const where = await whereOf(store, search);
  const common = [...where.common];
  const params = { ...where.params };
  const types = { ...where.types };
  if (search.eventSources?.length) {
    params['sources'] = listValue([...search.eventSources]);
    types['sources'] = LIST(VARCHAR);
    common.push('list_contains($sources, eventsource)');
  }
  const codes = (search.errorCodes ?? []).filter((c) => c !== '*');
  if (codes.length) {
    params['codes'] = listValue(codes);
    types['codes'] = LIST(VARCHAR);
    common.push('list_contains($codes, errorcode)');
  } else if (search.errorCodes?.includes('*')) {
    common.push('errorcode is not null');
  }
  const limit = Math.max(0, Math.floor(search.limit));
  const keys = await store.all<{ eventkey: string }>(
    `select eventkey
     from (${filteredSql({ ...where, common }, 'eventkey, eventtime')})
     order by eventtime, eventkey
     limit ${limit + 1}`,
    params,
    types,
  );
  const events = await loadEvents(store, keys.slice(0, limit).map((k) => k.eventkey));
  return { events, more: keys.length > limit };
}
