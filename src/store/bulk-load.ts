import { BIGINT, LIST, VARCHAR, listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Container } from '../ingest/sniff.js';
import type { Scope } from '../ingest/trail-layout.js';
import { ROW_GROUP_ROWS, segmentTable } from './segments.js';
import type { Store } from './store.js';

/** One file of a batch, as DuckDB will read it. */
export interface BatchFile {
  readonly inputId: number;
  /** The path DuckDB opens (safe of glob characters). */
  readonly readPath: string;
}

/** A set of files of one container shape, loaded in one statement. */
export interface Batch {
  readonly container: Container;
  readonly embedded: boolean;
  readonly gzip: boolean;
  readonly files: readonly BatchFile[];
}

/** What one file contributed. */
export interface FileCounts {
  readonly inputId: number;
  /** Objects found in the file (those outside the scope are not counted). */
  readonly records: number;
  /** New events stored. */
  readonly loaded: number;
  /** Events already in the store, or twice in this batch. */
  readonly duplicates: number;
  /** Objects that are not CloudTrail events (no parsable eventTime, no eventName/eventSource). */
  readonly rejected: number;
}

/** The fields json_transform reads out of each record, in one parse. */
const RECORD_SHAPE = JSON.stringify({
  eventTime: 'VARCHAR',
  eventSource: 'VARCHAR',
  eventName: 'VARCHAR',
  awsRegion: 'VARCHAR',
  sourceIPAddress: 'VARCHAR',
  userAgent: 'VARCHAR',
  errorCode: 'VARCHAR',
  eventID: 'VARCHAR',
  readOnly: 'VARCHAR',
  recipientAccountId: 'VARCHAR',
  sharedEventID: 'VARCHAR',
  userIdentity: {
    type: 'VARCHAR',
    arn: 'VARCHAR',
    accessKeyId: 'VARCHAR',
    userName: 'VARCHAR',
    sessionContext: { sessionIssuer: { arn: 'VARCHAR' } },
  },
});

/** The columns stored beside the record: the ones pivots and detections filter on. The `events` view derives the rest from `record`. */
const EVENT_COLUMNS = [
  ['eventkey', `coalesce(s.eventID, 'sha256:' || sha256(r::varchar))`],
  ['eventtime', 'try_cast(s.eventTime as timestamptz)'],
  ['eventsource', 's.eventSource'],
  ['eventname', 's.eventName'],
  ['awsregion', 's.awsRegion'],
  ['sourceipaddress', 's.sourceIPAddress'],
  ['useragent', 's.userAgent'],
  ['errorcode', 's.errorCode'],
  ['readonly', 'try_cast(s.readOnly as boolean)'],
  ['recipientaccountid', 's.recipientAccountId'],
  ['sharedeventid', 's.sharedEventID'],
  ['useridentity_type', 's.userIdentity.type'],
  ['principal_arn', 's.userIdentity.arn'],
  ['access_key_id', `nullif(s.userIdentity.accessKeyId, '')`],
  ['user_name', 's.userIdentity.userName'],
  ['session_issuer_arn', 's.userIdentity.sessionContext.sessionIssuer.arn'],
] as const;

const STORED = [...EVENT_COLUMNS.map(([name]) => name), 'input_id', 'run_id', 'record_index', 'record'];

function sourceSql(container: Container, gzip: boolean): string {
  const options = `filename = true, maximum_object_size = $maxObject, compression = '${gzip ? 'gzip' : 'uncompressed'}'`;
  const objects = (format: string) =>
    `select filename, json as e, null::integer as record_index
       from read_json_objects($files, format = '${format}', ${options})`;
  switch (container) {
    case 'records':
    case 'events': {
      const key = container === 'records' ? 'Records' : 'Events';
      return `select filename, unnest(${key}) as e, unnest(range(len(${key})))::integer as record_index
                from read_json($files, columns = {${key}: 'JSON[]'}, format = 'unstructured', ${options})`;
    }
    case 'array':
      return objects('array');
    case 'object':
      return objects('unstructured');
    case 'jsonl':
      return objects('newline_delimited');
  }
}

function selectSql(batch: Batch): string {
  const record = batch.embedded
    ? `case when json_type(e, '$.CloudTrailEvent') = 'VARCHAR' then try_cast(json_extract_string(e, '$.CloudTrailEvent') as json) else e end`
    : 'e';
  const columns = EVENT_COLUMNS.map(([name, expr]) => `${expr} as ${name}`).join(',\n       ');
  return `with src as (${sourceSql(batch.container, batch.gzip)}),
rec as (select filename, record_index, ${record} as r from src),
x as (select filename, record_index, r, json_transform(r, '${RECORD_SHAPE}') as s from rec),
y as (select filename, record_index, r as record,
       ${columns}
      from x)
select ${STORED.map((c) => (c === 'input_id' ? 'b.input_id' : c === 'run_id' ? '$run' : `y.${c}`)).join(', ')}
from y
join batch_files b on y.filename = b.filename
where not (${VALID}) or (${IN_SCOPE})`;
}

/** Binds the scope as parameters: a null bound means "no limit". */
function scopeParams(scope: Scope): Record<string, DuckDBValue> {
  return {
    since: scope.since?.toISOString() ?? null,
    until: scope.until?.toISOString() ?? null,
    accounts: listValue([...(scope.accounts ?? [])]),
    regions: listValue([...(scope.regions ?? [])]),
  };
}

const VALID = `eventtime is not null and coalesce(eventname, eventsource) is not null`;
const IN_SCOPE = `($since::timestamptz is null or eventtime >= $since::timestamptz)
  and ($until::timestamptz is null or eventtime < $until::timestamptz)
  and (len($accounts) = 0 or list_contains($accounts, recipientaccountid))
  and (len($regions) = 0 or list_contains($regions, awsregion))`;

/**
 * Loads a batch of files into segment `segment` in one streaming pass of DuckDB's JSON reader,
 * then, inside the same transaction, removes what must not stay: objects that are not
 * CloudTrail events (counted per file) and events already stored (the earliest input keeps
 * its copy). Input ids of a batch must be one contiguous range. Throws if any file in the
 * batch cannot be read, so the caller can roll back and split the batch to find it.
 */
export async function loadBatch(store: Store, runId: string, batch: Batch, scope: Scope, maxObjectBytes: number, segment: number): Promise<FileCounts[]> {
  const table = segmentTable(segment);
  const paths = batch.files.map((f) => f.readPath);
  const ids = batch.files.map((f) => f.inputId);
  const range = { lo: Math.min(...ids), hi: Math.max(...ids) };
  await store.run(
    `create or replace temp table batch_files as select unnest($paths) as filename, unnest($ids) as input_id`,
    { paths: listValue(paths), ids: listValue(ids.map((id) => BigInt(id))) },
    { paths: LIST(VARCHAR), ids: LIST(BIGINT) },
  );
  await store.run(
    `insert into ${table} (${STORED.join(', ')})\n${selectSql(batch)}`,
    { files: listValue(paths), maxObject: BigInt(maxObjectBytes), run: runId, ...scopeParams(scope) },
    { files: LIST(VARCHAR), accounts: LIST(VARCHAR), regions: LIST(VARCHAR) },
  );
  const inBatch = `input_id between ${range.lo} and ${range.hi}`;
  const rejected = await countBy(store, `select input_id, count(*)::bigint as n from ${table} where ${inBatch} and not (${VALID}) group by input_id`);
  if (rejected.size > 0) await store.run(`delete from ${table} where ${inBatch} and not (${VALID})`);
  const duplicates = await removeDuplicates(store, table, inBatch);
  const kept = await countBy(store, `select input_id, count(*)::bigint as n from ${table} where ${inBatch} group by input_id`);
  // The day summary (coverage, region first use) grows with each batch, in the batch's transaction.
  await store.run(
    `insert into event_days
     select recipientaccountid, awsregion, (eventtime at time zone 'UTC')::date, count(*), min(eventtime), max(eventtime)
     from ${table} where ${inBatch} and eventtime is not null group by all`,
  );
  await store.run(`drop table batch_files`);
  return ids.map((inputId) => {
    const loaded = kept.get(inputId) ?? 0;
    const dup = duplicates.get(inputId) ?? 0;
    const bad = rejected.get(inputId) ?? 0;
    return { inputId, records: loaded + dup + bad, loaded, duplicates: dup, rejected: bad };
  });
}

async function countBy(store: Store, sql: string): Promise<Map<number, number>> {
  const rows = await store.all<{ input_id: number; n: number }>(sql);
  return new Map(rows.map((r) => [r.input_id, r.n]));
}

/**
 * Deletes the later copies of every event of this batch that is now stored twice. A copy of
 * the same event has the same eventTime, so only row groups of the batch's time span are read.
 */
async function removeDuplicates(store: Store, table: string, inBatch: string): Promise<Map<number, number>> {
  const span = await store.one<{ lo: string | null; hi: string | null }>(`select min(eventtime)::varchar as lo, max(eventtime)::varchar as hi from ${table} where ${inBatch}`);
  if (!span?.lo || !span.hi) return new Map();
  await store.run(
    `create or replace temp table duplicate_rows as
     with candidates as (
       select segment_id, segment_row, input_id, eventkey, record_index
       from event_rows
       where eventtime between $lo::timestamptz and $hi::timestamptz
         and eventkey in (select eventkey from ${table} where ${inBatch})
     ),
     repeated as (select eventkey from candidates group by eventkey having count(*) > 1)
     select segment_id, segment_row, input_id
     from (
       select segment_id, segment_row, input_id,
              row_number() over (partition by eventkey order by input_id, record_index nulls last, segment_id, segment_row) as copy
       from candidates
       where eventkey in (select eventkey from repeated)
     )
     where copy > 1`,
    { lo: span.lo, hi: span.hi },
  );
  const counts = await countBy(store, `select input_id, count(*)::bigint as n from duplicate_rows group by input_id`);
  if (counts.size > 0) {
    const segments = await store.all<{ segment_id: number }>(`select distinct segment_id from duplicate_rows order by 1`);
    for (const { segment_id } of segments) {
      await store.run(`delete from ${segmentTable(segment_id)} where rowid in (select segment_row from duplicate_rows where segment_id = ?)`, [segment_id]);
    }
  }
  await store.run(`drop table duplicate_rows`);
  return counts;
}

/**
 * Adds to `key_groups` the rows loaded since it was last brought up to date, in their own
 * transaction: a row's id is final only once its batch has committed. A run cut off between
 * the two leaves the map behind, and readers then scan (see `keyGroupsCurrent`) until the
 * next load catches up.
 */
export async function catchUpKeyGroups(store: Store): Promise<void> {
  const ordered = await store.one<{ v: boolean }>(`select current_setting('preserve_insertion_order') as v`);
  await store.run('set preserve_insertion_order = true');
  try {
    await store.transaction(async () => {
      const state = await store.one<{ through: bigint; latest: bigint | null }>(
        `select (select through_input from key_groups_state) as through, (select max(input_id) from inputs) as latest`,
      );
      if (state?.latest === null || state?.latest === undefined || Number(state.latest) <= Number(state.through)) return;
      await store.run(
        `insert into key_groups
         select access_key_id, segment_id, segment_row // ${ROW_GROUP_ROWS}, count(*)
         from event_rows where input_id > ? and input_id <= ? and access_key_id is not null
         group by all order by access_key_id`,
        [state.through, state.latest],
      );
      await store.run(`update key_groups_state set through_input = ?`, [state.latest]);
    });
  } finally {
    await store.run(`set preserve_insertion_order = ${ordered?.v === false ? 'false' : 'true'}`);
  }
}

/** Whether `key_groups` covers every loaded input. */
export async function keyGroupsCurrent(store: Store): Promise<boolean> {
  const row = await store.one<{ ok: boolean }>(
    `select coalesce((select max(input_id) from inputs where status = 'loaded'), 0) <= (select through_input from key_groups_state) as ok`,
  );
  return row?.ok === true;
}
