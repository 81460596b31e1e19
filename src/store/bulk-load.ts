import { BIGINT, LIST, VARCHAR, listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Container } from '../ingest/sniff.js';
import type { Scope } from '../ingest/trail-layout.js';
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
  /** Objects found in the file. */
  readonly records: number;
  /** New events stored. */
  readonly loaded: number;
  /** Events already in the store, or twice in this batch. */
  readonly duplicates: number;
  /** Objects that are not CloudTrail events (no parsable eventTime, no eventName/eventSource). */
  readonly rejected: number;
  /** Valid events outside --since/--until/--account/--region. */
  readonly filtered: number;
}

/** The columns filled from the record; the nested JSON columns are virtual over `record`. */
const RECORD_SHAPE = JSON.stringify({
  eventVersion: 'VARCHAR',
  eventTime: 'VARCHAR',
  eventSource: 'VARCHAR',
  eventName: 'VARCHAR',
  awsRegion: 'VARCHAR',
  sourceIPAddress: 'VARCHAR',
  userAgent: 'VARCHAR',
  errorCode: 'VARCHAR',
  errorMessage: 'VARCHAR',
  requestID: 'VARCHAR',
  eventID: 'VARCHAR',
  eventType: 'VARCHAR',
  apiVersion: 'VARCHAR',
  readOnly: 'VARCHAR',
  managementEvent: 'VARCHAR',
  recipientAccountId: 'VARCHAR',
  sharedEventID: 'VARCHAR',
  vpcEndpointId: 'VARCHAR',
  eventCategory: 'VARCHAR',
  sessionCredentialFromConsole: 'VARCHAR',
  userIdentity: {
    type: 'VARCHAR',
    principalId: 'VARCHAR',
    arn: 'VARCHAR',
    accountId: 'VARCHAR',
    accessKeyId: 'VARCHAR',
    userName: 'VARCHAR',
    invokedBy: 'VARCHAR',
    sessionContext: { sessionIssuer: { arn: 'VARCHAR', userName: 'VARCHAR' } },
  },
});

const EVENT_COLUMNS = [
  ['eventkey', `coalesce(s.eventID, 'sha256:' || sha256(r::varchar))`],
  ['eventversion', 's.eventVersion'],
  ['eventtime', 'try_cast(s.eventTime as timestamptz)'],
  ['eventsource', 's.eventSource'],
  ['eventname', 's.eventName'],
  ['awsregion', 's.awsRegion'],
  ['sourceipaddress', 's.sourceIPAddress'],
  ['useragent', 's.userAgent'],
  ['errorcode', 's.errorCode'],
  ['errormessage', 's.errorMessage'],
  ['requestid', 's.requestID'],
  ['eventid', 's.eventID'],
  ['eventtype', 's.eventType'],
  ['apiversion', 's.apiVersion'],
  ['readonly', 'try_cast(s.readOnly as boolean)'],
  ['managementevent', 'try_cast(s.managementEvent as boolean)'],
  ['recipientaccountid', 's.recipientAccountId'],
  ['sharedeventid', 's.sharedEventID'],
  ['vpcendpointid', 's.vpcEndpointId'],
  ['eventcategory', 's.eventCategory'],
  ['sessioncredentialfromconsole', 's.sessionCredentialFromConsole'],
  ['useridentity_type', 's.userIdentity.type'],
  ['principal_arn', 's.userIdentity.arn'],
  ['principal_id', 's.userIdentity.principalId'],
  ['principal_account', 's.userIdentity.accountId'],
  ['access_key_id', `nullif(s.userIdentity.accessKeyId, '')`],
  ['user_name', 's.userIdentity.userName'],
  ['session_issuer_arn', 's.userIdentity.sessionContext.sessionIssuer.arn'],
  ['session_issuer_name', 's.userIdentity.sessionContext.sessionIssuer.userName'],
  ['invoked_by', 's.userIdentity.invokedBy'],
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

function stageSql(batch: Batch): string {
  const record = batch.embedded
    ? `case when json_type(e, '$.CloudTrailEvent') = 'VARCHAR' then try_cast(json_extract_string(e, '$.CloudTrailEvent') as json) else e end`
    : 'e';
  const columns = EVENT_COLUMNS.map(([name, expr]) => `${expr} as ${name}`).join(',\n       ');
  return `create or replace temp table stage as
with src as (${sourceSql(batch.container, batch.gzip)}),
rec as (select filename, record_index, ${record} as r from src),
x as (select filename, record_index, r, json_transform(r, '${RECORD_SHAPE}') as s from rec),
y as (select filename, record_index, r as record,
       ${columns}
      from x)
select *, (${VALID}) as valid, (${VALID}) and (${IN_SCOPE}) as in_scope
from y`;
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
  and (len($accounts) = 0 or list_contains($accounts, coalesce(recipientaccountid, principal_account)))
  and (len($regions) = 0 or list_contains($regions, awsregion))`;

/**
 * Loads a batch of files into `events` in one pass of DuckDB's JSON reader: new events are
 * inserted once (deduplicated on eventkey against the store and within the batch), with
 * their input and run. Must run inside the caller's transaction; throws if any file in the
 * batch cannot be read, so the caller can split the batch to find it.
 */
export async function loadBatch(store: Store, runId: string, batch: Batch, scope: Scope, maxObjectBytes: number): Promise<FileCounts[]> {
  const paths = batch.files.map((f) => f.readPath);
  await store.run(
    `create or replace temp table batch_files as select unnest($paths) as filename, unnest($ids) as input_id`,
    { paths: listValue(paths), ids: listValue(batch.files.map((f) => BigInt(f.inputId))) },
    { paths: LIST(VARCHAR), ids: LIST(BIGINT) },
  );
  await store.run(stageSql(batch), { files: listValue(paths), maxObject: BigInt(maxObjectBytes), ...scopeParams(scope) }, { files: LIST(VARCHAR), accounts: LIST(VARCHAR), regions: LIST(VARCHAR) });
  const counted = await store.all<{ input_id: number; records: number; rejected: number; filtered: number }>(
    `select b.input_id,
            count(s.filename)::bigint as records,
            count(s.filename) filter (where not s.valid)::bigint as rejected,
            count(s.filename) filter (where s.valid and not s.in_scope)::bigint as filtered
     from batch_files b
     left join stage s on s.filename = b.filename
     group by b.input_id`,
  );
  await store.run(
    `insert into events (${STORED.join(', ')})
     select ${EVENT_COLUMNS.map(([name]) => `s.${name}`).join(', ')}, b.input_id, $run, s.record_index, s.record
     from stage s
     join batch_files b on s.filename = b.filename
     where s.in_scope
       and not exists (select 1 from events e where e.eventkey = s.eventkey)
     qualify row_number() over (partition by s.eventkey order by b.input_id, s.record_index) = 1`,
    { run: runId },
  );
  const loaded = await store.all<{ input_id: number; n: number }>(
    `select input_id, count(*)::bigint as n from events where run_id = $run and input_id in (select input_id from batch_files) group by input_id`,
    { run: runId },
  );
  const loadedBy = new Map(loaded.map((row) => [row.input_id, row.n]));
  await store.run(`drop table stage`);
  return counted.map((row) => {
    const n = loadedBy.get(row.input_id) ?? 0;
    return {
      inputId: row.input_id,
      records: row.records,
      loaded: n,
      duplicates: row.records - row.rejected - row.filtered - n,
      rejected: row.rejected,
      filtered: row.filtered,
    };
  });
}
