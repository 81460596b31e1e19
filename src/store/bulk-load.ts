import { BIGINT, LIST, VARCHAR, listValue, type DuckDBValue } from '@duckdb/node-api';
import { jsonDepth } from '../core/json.js';
import type { Container } from '../ingest/sniff.js';
import type { Scope } from '../ingest/trail-layout.js';
import { loadProjection, recordShape } from './columns.js';
import { ROW_GROUP_ROWS, segmentTable } from './segments.js';
import type { Store } from './store.js';

/** One file of a batch, as DuckDB will read it. */
export interface BatchFile {
  readonly inputId: number;
  /** The path DuckDB opens (safe of glob characters). */
  readonly readPath: string;
  /** JSON Lines read line by line: the lines that are not JSON (left out of readPath), 1-based. */
  readonly badLines?: ReadonlyArray<{ readonly line: number; readonly reason: string }>;
}

/** A set of files of one container shape, loaded in one statement. */
export interface Batch {
  readonly container: Container;
  readonly embedded: boolean;
  readonly gzip: boolean;
  /** No record of these files nests deeper than MAX_RECORD_DEPTH, as measured when each was read (see `withinDepth`): the load looks for none. */
  readonly shallow?: boolean;
  readonly files: readonly BatchFile[];
}

/** What one file contributed. */
export interface FileCounts {
  readonly inputId: number;
  /** Objects found in the file (those outside the scope are not counted). */
  readonly records: number;
  /** New events stored. */
  readonly loaded: number;
  /** Exact copies of events already in the store, or twice in this batch. */
  readonly duplicates: number;
  /** Objects that are not CloudTrail events (no usable eventTime, no eventName/eventSource, too deep). */
  readonly rejected: number;
  /** Stored events that share eventID and account with a record of other content (all kept). */
  readonly conflicts: number;
  /** The rejected records, with their reasons. */
  readonly rejections: readonly RejectedRecord[];
}

/** The fields json_transform reads out of each record, in one parse. */
const RECORD_SHAPE = recordShape();

/** The columns stored beside the record: the ones pivots and detections filter on. The `events` view derives the rest from `record`. */
const EVENT_COLUMNS = loadProjection();

const STORED = [...EVENT_COLUMNS.map(([name]) => name), 'input_id', 'run_id', 'record_index', 'record'];

function sourceSql(container: Container, gzip: boolean): string {
  const options = `filename = true, maximum_object_size = $maxObject, compression = '${gzip ? 'gzip' : 'uncompressed'}'`;
  const objects = (format: string) =>
    `select filename, json as e, null::integer as record_index
       from read_json_objects($files, format = '${format}', ${options})`;
  switch (container) {
    case 'records':
    case 'events': {
      // read_json with a JSON[] column segfaults on a record nested ~15k levels deep; the
      // JSON functions do not (200k levels tried), and this reads as fast (0.72 s vs 0.74 s on 200k events).
      const key = container === 'records' ? 'Records' : 'Events';
      return `select filename, unnest(l) as e, unnest(range(len(l)))::integer as record_index
                from (select filename, json_extract(json, '$.${key}[*]') as l
                      from read_json_objects($files, format = 'unstructured', ${options}))`;
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
rec as (select filename, record_index, coalesce(${record}, 'null'::json) as r from src),
x as (select filename, record_index, r, json_transform(r, '${RECORD_SHAPE}') as s from rec),
y as (select filename, record_index, r as record,
       ${columns}
      from x)
select ${STORED.map((c) => (c === 'input_id' ? 'b.input_id' : c === 'run_id' ? '$run' : c === 'record_index' ? (batch.shallow ? 'y.record_index' : MARKED_INDEX) : `y.${c}`)).join(', ')}
from y
join batch_files b on y.filename = b.filename
where not (${VALID}) or (${IN_SCOPE})`;
}

/** Deeper records are rejected: real CloudTrail records nest about 10 levels (policy documents are strings). */
export const MAX_RECORD_DEPTH = 64;

/**
 * Records with more opening brackets than MAX_RECORD_DEPTH may nest past it; fewer cannot.
 * The load pass counts them (a regular expression, on the text it holds already: a pass of
 * its own after the load took 4.8 s per million records, inside the load about a quarter of
 * that) and marks each such row by storing its record_index negated (-1 - index; the
 * smallest integer for a record without one). Nothing else writes record_index, so no record
 * can forge the mark; rejectRecords walks the marked rows exactly and restores the index in
 * the same transaction, so a mark is never committed.
 */
const DEPTH_CANDIDATE = `regexp_matches(y.record, '^(?:[^\\[{]*[\\[{]){${MAX_RECORD_DEPTH + 1}}')`;
const NO_INDEX_MARK = -2147483648;
const MARKED_INDEX = `if(${DEPTH_CANDIDATE}, coalesce(-1 - y.record_index, ${NO_INDEX_MARK}), y.record_index)`;

/** The levels a container puts around each record: `{"Records":[…]}` two, a top-level array one. */
const CONTAINER_DEPTH: Readonly<Record<Container, number>> = { records: 2, events: 2, array: 1, object: 0, jsonl: 0 };

/**
 * Whether no record of a file can nest deeper than MAX_RECORD_DEPTH, given how deeply the
 * file's whole text nests (`depth`, measured as the file was read; the bytes loaded are those
 * bytes, by their sha256). Such a file's batch skips the search for deep records, a regular
 * expression over every record's text (3.5 CPU-s per million events). Records held as strings
 * (Event History's CloudTrailEvent) are not measured by the file's depth.
 */
export function withinDepth(depth: number | undefined, container: Container, embedded: boolean): boolean {
  return !embedded && depth !== undefined && depth <= MAX_RECORD_DEPTH + CONTAINER_DEPTH[container];
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

/** The earliest event time accepted: CloudTrail started in November 2013; anything earlier is not a real record. */
export const EARLIEST_EVENT_TIME = '2013-01-01T00:00:00Z';

// now() is the transaction's start: a record may be at most a day ahead of the clock.
const IN_RANGE = `eventtime >= '${EARLIEST_EVENT_TIME}'::timestamptz and eventtime <= now() + interval 1 day`;
const VALID = `eventtime is not null and ${IN_RANGE} and coalesce(eventname, eventsource) is not null`;

/** Why a stored row is not an event, or null when it is one; every reason says what was wrong with the record. */
const REJECT_REASON = `case
  when json_type(record) <> 'OBJECT' then 'not a JSON object' || if(json_type(record) = 'NULL', ' (null, or a CloudTrailEvent string that is not JSON)', ' (a JSON ' || lower(json_type(record)) || ')')
  when json_extract_string(record, '$.eventTime') is null then 'no eventTime'
  when eventtime is null then 'eventTime ' || to_json(left(json_extract_string(record, '$.eventTime'), 40)) || ' is not a date and time'
  when not (${IN_RANGE}) then 'eventTime ' || to_json(left(json_extract_string(record, '$.eventTime'), 40)) || ' is outside ${EARLIEST_EVENT_TIME.slice(0, 10)} .. now + 1 day'
  when coalesce(eventname, eventsource) is null then 'no eventName or eventSource'
end`;
const IN_SCOPE = `($since::timestamptz is null or eventtime >= $since::timestamptz)
  and ($until::timestamptz is null or eventtime < $until::timestamptz)
  and (len($accounts) = 0 or list_contains($accounts, recipientaccountid))
  and (len($regions) = 0 or list_contains($regions, awsregion))`;

/** A record of a file that was left out, and why. */
export interface RejectedRecord {
  readonly inputId: number;
  /** Position in the file's Records/Events array or top-level array; null for JSON Lines and single objects. */
  readonly recordIndex: number | null;
  /** The line of a JSON Lines file that is not JSON (1-based). */
  readonly line?: number;
  readonly reason: string;
}

/**
 * Loads a batch of files into segment `segment` in one streaming pass of DuckDB's JSON reader,
 * then, inside the same transaction, removes what must not stay: records that are not
 * CloudTrail events or cannot be trusted to read back (each kept in `record_issues` with its
 * reason) and exact copies of records already stored (the earliest input keeps its copy).
 * Records with the same eventID and account but other content are conflicts: all are kept
 * and each is listed in `record_issues`. Input ids of a batch must be one contiguous range.
 * Throws if any file in the batch cannot be read, so the caller can roll back and split the
 * batch to find it.
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
  const rejections = [...(await rejectRecords(store, runId, table, inBatch)), ...(await recordBadLines(store, runId, batch))];
  const duplicates = await removeDuplicates(store, runId, table, inBatch);
  // The records digest is taken once the batch has committed (catchUpRecordsDigests): on uncommitted rows it cost 2.5-3.2 s per million events, 1.7-1.9 s committed.
  const kept = await store.all<{ input_id: number; n: number }>(`select input_id, count(*)::bigint as n from ${table} where ${inBatch} group by input_id`);
  const conflicts = await countBy(store, `select input_id, count(*)::bigint as n from record_issues where kind = 'conflict' and ${inBatch} group by input_id`);
  const keptBy = new Map(kept.map((r) => [r.input_id, r]));
  // The day summary (coverage, region first use) grows with each batch, in the batch's transaction.
  await store.run(
    `insert into event_days
     select recipientaccountid, awsregion, (eventtime at time zone 'UTC')::date, count(*), min(eventtime), max(eventtime)
     from ${table} where ${inBatch} and eventtime is not null group by all`,
  );
  await store.run(`drop table batch_files`);
  return ids.map((inputId) => {
    const row = keptBy.get(inputId);
    const loaded = row?.n ?? 0;
    const dup = duplicates.get(inputId) ?? 0;
    const rejected = rejections.filter((r) => r.inputId === inputId);
    return {
      inputId,
      records: loaded + dup + rejected.length,
      loaded,
      duplicates: dup,
      rejected: rejected.length,
      conflicts: conflicts.get(inputId) ?? 0,
      rejections: rejected,
    };
  });
}

/** The records digest of an input with no stored events. */
export const EMPTY_DIGEST = '0'.repeat(32);

/** The records digest of a loaded input whose batch has committed and whose digest is not taken yet (catchUpRecordsDigests). */
export const PENDING_DIGEST = 'pending';

/**
 * The digest of the events stored from one input, whatever their row order: the md5 of their
 * sorted md5s (zeros when there are none). Recorded at load; `verify` derives it again. It
 * finds rows changed, added or removed outside trailhound; it is no defence against someone
 * who can rewrite the store (they can rewrite the digest too). md5 costs 0.6 CPU-s per 200k
 * records here, sha256 1.3. Gives input_id, n (the events) and digest of each input with
 * events in `from` (where `where` holds).
 */
export function recordsDigestSql(from: string, where = 'true'): string {
  // Each record's md5 once (named in the aggregate twice, it was computed twice: 0.6 s per million).
  // A sorted list, not an ordered string_agg: the same text, 10 % faster.
  return `select input_id, count(*)::bigint as n, md5(array_to_string(list_sort(list(m)), '')) as digest
          from (select input_id, md5(record) as m from ${from} where ${where}) group by input_id`;
}

/**
 * Deletes the rows of the batch that are not events, with their reasons in `record_issues`:
 * no usable eventTime (missing, unreadable, before 2013, more than a day ahead), no
 * eventName, not an object, or nested deeper than MAX_RECORD_DEPTH.
 */
async function rejectRecords(store: Store, runId: string, table: string, inBatch: string): Promise<RejectedRecord[]> {
  // The rows the load marked as possibly too deep (see DEPTH_CANDIDATE) are walked exactly; every mark is undone first.
  const deep = await store.all<{ row: bigint; record: string; valid: boolean }>(
    `select rowid as row, record, coalesce(${VALID}, false) as valid from ${table} where ${inBatch} and record_index < 0`,
  );
  if (deep.length > 0) {
    await store.run(
      `update ${table} set record_index = if(record_index = ${NO_INDEX_MARK}, null, -1 - record_index) where ${inBatch} and record_index < 0`,
    );
  }
  const tooDeep = deep.filter((d) => d.valid && jsonDepth(d.record) > MAX_RECORD_DEPTH).map((d) => BigInt(d.row));
  // The rows that are not events are found on the stored columns alone, and only theirs are read
  // whole: asked in one statement, DuckDB read every record of the uncommitted batch (1.5 s per million).
  const invalid = await store.all<{ row: bigint }>(`select rowid as row from ${table} where ${inBatch} and not (${VALID})`);
  await store.run(
    `create or replace temp table batch_rejects as
     select rowid as row, input_id, record_index, eventkey, ${REJECT_REASON} as reason
     from ${table} where ${invalid.length > 0 ? 'rowid in (select unnest($rows))' : 'false'}`,
    invalid.length > 0 ? { rows: listValue(invalid.map((r) => BigInt(r.row))) } : {},
    invalid.length > 0 ? { rows: LIST(BIGINT) } : {},
  );
  if (tooDeep.length > 0) {
    await store.run(
      `insert into batch_rejects
       select rowid, input_id, record_index, eventkey, 'nested deeper than ${MAX_RECORD_DEPTH} levels'
       from ${table} where rowid in (select unnest($rows))`,
      { rows: listValue(tooDeep) },
      { rows: LIST(BIGINT) },
    );
  }
  const rows = await store.all<{ input_id: number; record_index: number | null; reason: string }>(
    `select input_id, record_index, reason from batch_rejects order by input_id, record_index nulls last, reason`,
  );
  if (rows.length > 0) {
    await store.run(`delete from ${table} where rowid in (select row from batch_rejects)`);
    await store.run(
      `insert into record_issues (run_id, input_id, record_index, eventkey, kind, detail)
       select ?, input_id, record_index, if(starts_with(eventkey, 'sha256:'), null, eventkey), 'rejected', reason from batch_rejects`,
      [runId],
    );
  }
  await store.run(`drop table batch_rejects`);
  return rows.map((r) => ({ inputId: r.input_id, recordIndex: r.record_index, reason: r.reason }));
}

/** The objects of a record that detections, reports and remediation read fields from. */
const READ_OBJECTS = ['$', '$.userIdentity', '$.userIdentity.sessionContext', '$.userIdentity.sessionContext.sessionIssuer', '$.requestParameters', '$.responseElements'];

/**
 * Lists afresh in record_issues (kind `repeated-key`, under `runId`) the stored events in
 * which an object that is read holds the same key twice (`"userName":"innocent",
 * "userName":"backdoor"`): trailhound reads the first everywhere, but another tool may read
 * the last, and a responder should know the record was written to be read two ways. The
 * records are kept. Gives how many objects repeat a key. It parses every record six times
 * (about 4 s per 300k events, a quarter of their load), so `verify` runs it, not each load.
 */
export async function flagRepeatedKeys(store: Store, runId: string): Promise<number> {
  const objects = READ_OBJECTS.map((path) => `{'path': '${path}', 'keys': json_keys(record${path === '$' ? '' : `, '${path}'`})}`).join(', ');
  await store.run(`delete from record_issues where kind = 'repeated-key'`);
  await store.run(
    `insert into record_issues (run_id, input_id, record_index, eventkey, kind, detail)
     select ?, input_id, record_index, if(starts_with(eventkey, 'sha256:'), null, eventkey), 'repeated-key',
            'the key ' || to_json(list_filter(o.keys, k -> len(list_filter(o.keys, j -> j = k)) > 1)[1]) || ' appears more than once in ' || o.path || '; trailhound reads the first, other tools may read another'
     from (select input_id, record_index, eventkey, unnest([${objects}]) as o from event_rows)
     where len(o.keys) > len(list_distinct(o.keys))`,
    [runId],
  );
  return Number((await store.one<{ n: bigint }>(`select count(*)::bigint as n from record_issues where kind = 'repeated-key'`))?.n ?? 0);
}

/** Records the lines of JSON Lines files that are not JSON, as rejected records naming their line. */
async function recordBadLines(store: Store, runId: string, batch: Batch): Promise<RejectedRecord[]> {
  const rows = batch.files.flatMap((f) => (f.badLines ?? []).map((b) => ({ inputId: f.inputId, recordIndex: null, line: b.line, reason: `line ${b.line}: ${b.reason}` })));
  if (rows.length > 0) {
    await store.run(
      `insert into record_issues (run_id, input_id, record_index, eventkey, kind, detail)
       select $run, unnest($ids), null, null, 'rejected', unnest($reasons)`,
      { run: runId, ids: listValue(rows.map((r) => BigInt(r.inputId))), reasons: listValue(rows.map((r) => r.reason)) },
      { ids: LIST(BIGINT), reasons: LIST(VARCHAR) },
    );
  }
  return rows;
}

async function countBy(store: Store, sql: string): Promise<Map<number, number>> {
  const rows = await store.all<{ input_id: number; n: number }>(sql);
  return new Map(rows.map((r) => [r.input_id, r.n]));
}

/**
 * Deletes the later copies of records of this batch that are now stored twice: same key
 * (eventID, or the content hash when there is none), same account, same content. The key is
 * looked up in the whole store, not in a time span, so the outcome never depends on how files
 * were batched; the same key and account with other content is a conflict, kept and listed.
 */
async function removeDuplicates(store: Store, runId: string, table: string, inBatch: string): Promise<Map<number, number>> {
  await store.run(
    `create or replace temp table repeated_rows as
     with candidates as (
       select segment_id, segment_row, input_id, record_index, eventkey, coalesce(recipientaccountid, '') as account
       from event_rows
       where eventkey in (select eventkey from ${table} where ${inBatch})
     )
     select * from candidates
     where (eventkey, account) in (select (eventkey, account) from candidates group by all having count(*) > 1)`,
  );
  const repeated = await store.one<{ n: number }>(`select count(*)::bigint as n from repeated_rows`);
  if (!repeated?.n) {
    await store.run(`drop table repeated_rows`);
    return new Map();
  }
  // Only the few repeated rows are read in full; json() makes whitespace differences irrelevant.
  await store.run(
    `create or replace temp table repeated_content as
     select r.*, sha256(json(e.record)) as content
     from repeated_rows r
     join event_rows e on e.segment_id = r.segment_id and e.segment_row = r.segment_row
     where e.eventkey in (select eventkey from repeated_rows)`,
  );
  await store.run(
    `create or replace temp table duplicate_rows as
     select segment_id, segment_row, input_id
     from (
       select *, row_number() over (partition by eventkey, account, content order by input_id, record_index nulls last, segment_id, segment_row) as copy
       from repeated_content
     )
     where copy > 1`,
  );
  const counts = await countBy(store, `select input_id, count(*)::bigint as n from duplicate_rows group by input_id`);
  if (counts.size > 0) {
    const segments = await store.all<{ segment_id: number }>(`select distinct segment_id from duplicate_rows order by 1`);
    for (const { segment_id } of segments) {
      await store.run(`delete from ${segmentTable(segment_id)} where rowid in (select segment_row from duplicate_rows where segment_id = ?)`, [segment_id]);
    }
  }
  // What remains of a key and account with more than one content is a conflict; each row is listed once.
  await store.run(
    `insert into record_issues (run_id, input_id, record_index, eventkey, kind, detail)
     select ?, c.input_id, c.record_index, c.eventkey, 'conflict',
            'same eventID and account as ' || (g.versions - 1) || ' stored record(s) with other content; all are kept'
     from repeated_content c
     join (select eventkey, account, count(distinct content) as versions from repeated_content group by all having count(distinct content) > 1) g
       using (eventkey, account)
     anti join duplicate_rows d on d.segment_id = c.segment_id and d.segment_row = c.segment_row
     where not exists (
       select 1 from record_issues i
       where i.kind = 'conflict' and i.input_id = c.input_id and i.eventkey = c.eventkey and i.record_index is not distinct from c.record_index)`,
    [runId],
  );
  await store.run(`drop table repeated_rows`);
  await store.run(`drop table repeated_content`);
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

/**
 * Takes the records digest of every loaded input still marked PENDING_DIGEST, in its own
 * transaction, right after each batch commits. A run cut off between the two leaves the mark;
 * the next ingest takes the digest before it loads anything, and `verify` counts such inputs
 * as not comparable until then.
 */
export async function catchUpRecordsDigests(store: Store): Promise<void> {
  await store.transaction(async () => {
    const pending = await store.one<{ lo: bigint | null; hi: bigint | null }>(
      `select min(input_id) as lo, max(input_id) as hi from inputs where status = 'loaded' and records_digest = '${PENDING_DIGEST}'`,
    );
    if (pending?.lo === null || pending?.lo === undefined) return;
    // The id range lets each segment skip the row groups of other loads.
    const range = `input_id between ${Number(pending.lo)} and ${Number(pending.hi)}`;
    await store.run(
      `update inputs set records_digest = coalesce(d.digest, '${EMPTY_DIGEST}')
       from (select i.input_id, d.digest
             from inputs i left join (${recordsDigestSql('event_rows', range)}) d using (input_id)
             where i.status = 'loaded' and i.records_digest = '${PENDING_DIGEST}' and i.${range}) d
       where inputs.input_id = d.input_id`,
    );
  });
}

/** Whether `key_groups` covers every loaded input. */
export async function keyGroupsCurrent(store: Store): Promise<boolean> {
  const row = await store.one<{ ok: boolean }>(
    `select coalesce((select max(input_id) from inputs where status = 'loaded'), 0) <= (select through_input from key_groups_state) as ok`,
  );
  return row?.ok === true;
}
