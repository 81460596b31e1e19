import type { Table } from '../core/table.js';
import { STORED_COLUMNS, type RecordCompression } from './columns.js';
import { olderSegments, recordCompression } from './segments.js';
import type { Store } from './store.js';

/** What a store holds: totals, and event counts by account, region, day and event source. */
export interface StoreStats {
  readonly events: number;
  readonly firstEventTime: string | null;
  readonly lastEventTime: string | null;
  readonly inputs: { readonly loaded: number; readonly skipped: number; readonly digests: number };
  /** Records left out with a reason, and stored events in conflict (same eventID and account, other content); both in `record_issues`. */
  readonly records: { readonly rejected: number; readonly conflicts: number };
  readonly runs: number;
  /** How new segments store records: zstd (the compressed layout), or fsst in a store made before it (`compact` rewrites it). */
  readonly layout: {
    readonly records: RecordCompression;
    readonly bytes: number;
    /** Events in segments written by an earlier release, which read the columns it did not store out of their records (slower; `compact` stores them). */
    readonly olderSegmentEvents: number;
    /** The columns those segments read out of their records. */
    readonly olderSegmentColumns: readonly string[];
  };
  readonly byAccount: Table;
  readonly byRegion: Table;
  readonly byDay: Table;
  readonly bySource: Table;
  /** The most active access keys (AKIA and ASIA), with the principal, addresses and regions of each. */
  readonly byKey: RankedTable;
  /** The most active principals. */
  readonly byPrincipal: RankedTable;
  /** The most active source addresses. */
  readonly byAddress: RankedTable;
}

/** The first rows of a ranking, and how many there are in all. */
export interface RankedTable extends Table {
  readonly total: number;
}

/** Rows kept in each ranking. */
export const STATS_TOP = 25;

/** Counts what the store holds. */
export async function storeStats(store: Store): Promise<StoreStats> {
  const totals = await store.one<{ events: number; first: string | null; last: string | null }>(
    `select count(*)::bigint as events, min(eventtime) as first, max(eventtime) as last from events`,
  );
  const inputs = await store.one<{ loaded: number; skipped: number; digests: number }>(
    `select count(*) filter (where status = 'loaded')::bigint as loaded,
            count(*) filter (where status = 'skipped')::bigint as skipped,
            count(*) filter (where status = 'digest')::bigint as digests
     from inputs`,
  );
  const runs = await store.one<{ n: number }>(`select count(*)::bigint as n from ingest_runs`);
  const issues = await store.one<{ rejected: number; conflicts: number }>(
    `select count(*) filter (where kind = 'rejected')::bigint as rejected, count(*) filter (where kind = 'conflict')::bigint as conflicts from record_issues`,
  );
  const grouped = async (label: string, expr: string): Promise<Table> => {
    const rows = await store.all(
      `select ${expr} as ${label}, count(*)::bigint as events, min(eventtime) as first, max(eventtime) as last
       from events
       group by 1
       order by 1 nulls last`,
    );
    return { columns: [label, 'events', 'first', 'last'], rows };
  };
  const ranked = async (label: string, expr: string, extra: string, extraColumns: readonly string[]): Promise<RankedTable> => {
    const rows = await store.all(
      `select ${expr} as ${label}${extra}, count(*)::bigint as events, min(eventtime) as first, max(eventtime) as last
       from events
       where ${expr} is not null
       group by ${expr}
       order by events desc, ${label}
       limit ${STATS_TOP}`,
    );
    const total = await store.one<{ n: number }>(`select count(distinct ${expr})::bigint as n from events`);
    return { columns: [label, ...extraColumns, 'events', 'first', 'last'], rows, total: Number(total?.n ?? 0) };
  };
  return {
    events: totals?.events ?? 0,
    firstEventTime: totals?.first ?? null,
    lastEventTime: totals?.last ?? null,
    inputs: { loaded: inputs?.loaded ?? 0, skipped: inputs?.skipped ?? 0, digests: inputs?.digests ?? 0 },
    records: { rejected: issues?.rejected ?? 0, conflicts: issues?.conflicts ?? 0 },
    runs: runs?.n ?? 0,
    layout: {
      records: await recordCompression(store),
      bytes: Number((await store.one<{ n: bigint }>(`select (total_blocks * block_size)::bigint as n from pragma_database_size() where database_name = current_database()`))?.n ?? 0),
      ...(await olderSegmentLayout(store)),
    },
    byAccount: await grouped('account', 'recipientaccountid'),
    byRegion: await grouped('region', 'awsregion'),
    byDay: await grouped('day', `strftime(eventtime, '%Y-%m-%d')`),
    bySource: await grouped('eventsource', 'eventsource'),
    byKey: await ranked(
      'access_key_id',
      'access_key_id',
      `, any_value(principal_arn) as principal_arn, count(distinct sourceipaddress)::bigint as ips, count(distinct awsregion)::bigint as regions`,
      ['principal_arn', 'ips', 'regions'],
    ),
    byPrincipal: await ranked('principal_arn', 'principal_arn', `, count(distinct access_key_id)::bigint as keys, count(distinct sourceipaddress)::bigint as ips`, ['keys', 'ips']),
    byAddress: await ranked('source_ip', 'sourceipaddress', `, count(distinct access_key_id)::bigint as keys, count(distinct principal_arn)::bigint as principals`, ['keys', 'principals']),
  };
}

/** The events of segments that lack a column this release stores, and the columns they lack. */
async function olderSegmentLayout(store: Store): Promise<{ olderSegmentEvents: number; olderSegmentColumns: string[] }> {
  const older = await olderSegments(store);
  if (older.size === 0) return { olderSegmentEvents: 0, olderSegmentColumns: [] };
  const row = await store.one<{ n: bigint }>(`select count(*)::bigint as n from event_rows where segment_id in (${[...older.keys()].join(', ')})`);
  const missing = new Set([...older.values()].flat());
  return { olderSegmentEvents: Number(row?.n ?? 0), olderSegmentColumns: STORED_COLUMNS.map((c) => c.name).filter((name) => missing.has(name)) };
}
