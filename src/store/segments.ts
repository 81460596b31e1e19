import type { Store } from './store.js';

/**
 * Events are stored in segments: one table per large load (`event_rows_<n>`), joined by the
 * `event_rows` view. DuckDB writes a big insert into an empty table straight to its final
 * place, but rewrites rows appended to a table that already holds data at the next
 * checkpoint, which doubled the cost of every batch after the first.
 */
export const SEGMENT_COLUMNS = `
  eventkey varchar not null,
  eventtime timestamptz,
  eventsource varchar,
  eventname varchar,
  awsregion varchar,
  sourceipaddress varchar,
  useragent varchar,
  errorcode varchar,
  readonly boolean,
  recipientaccountid varchar,
  sharedeventid varchar,
  useridentity_type varchar,
  principal_arn varchar,
  access_key_id varchar,
  user_name varchar,
  session_issuer_arn varchar,
  input_id bigint not null,
  run_id varchar not null,
  record_index integer,
  record json using compression fsst not null`;

/** The table name of segment `id`. */
export function segmentTable(id: number): string {
  if (!Number.isInteger(id) || id < 0) throw new Error(`bad segment id ${id}`);
  return `event_rows_${id}`;
}

/** DDL of one segment table. */
export function segmentTableSql(id: number): string {
  return `create table ${segmentTable(id)} (${SEGMENT_COLUMNS}\n);`;
}

/** DDL of the `event_rows` view (all segments, with where each row lives) and the `events` view over it. */
export function viewsSql(ids: readonly number[]): string {
  const union = ids.map((id) => `select *, ${id} as segment_id, rowid as segment_row from ${segmentTable(id)}`).join('\nunion all\n');
  return `create or replace view event_rows as
${union};

create or replace view events as
select
  * exclude (segment_id, segment_row),
  if(starts_with(eventkey, 'sha256:'), null, eventkey) as eventid,
  json_extract_string(record, '$.eventVersion') as eventversion,
  json_extract_string(record, '$.errorMessage') as errormessage,
  json_extract_string(record, '$.requestID') as requestid,
  json_extract_string(record, '$.eventType') as eventtype,
  json_extract_string(record, '$.apiVersion') as apiversion,
  try_cast(json_extract_string(record, '$.managementEvent') as boolean) as managementevent,
  json_extract_string(record, '$.vpcEndpointId') as vpcendpointid,
  json_extract_string(record, '$.eventCategory') as eventcategory,
  json_extract_string(record, '$.sessionCredentialFromConsole') as sessioncredentialfromconsole,
  json_extract_string(record, '$.userIdentity.principalId') as principal_id,
  json_extract_string(record, '$.userIdentity.accountId') as principal_account,
  json_extract_string(record, '$.userIdentity.sessionContext.sessionIssuer.userName') as session_issuer_name,
  json_extract_string(record, '$.userIdentity.invokedBy') as invoked_by,
  json_extract(record, '$.userIdentity') as useridentity,
  json_extract(record, '$.requestParameters') as requestparameters,
  json_extract(record, '$.responseElements') as responseelements,
  json_extract(record, '$.additionalEventData') as additionaleventdata,
  json_extract(record, '$.resources') as resources,
  json_extract(record, '$.serviceEventDetails') as serviceeventdetails,
  json_extract(record, '$.tlsDetails') as tlsdetails
from event_rows;
`;
}

/** The segment ids, oldest first. */
export async function segmentIds(store: Store): Promise<number[]> {
  return (await store.all<{ segment_id: number }>('select segment_id from segments order by segment_id')).map((r) => r.segment_id);
}

/** Creates a new, empty segment and rebuilds the views; call inside the batch's transaction. */
export async function createSegment(store: Store, runId: string): Promise<number> {
  const ids = await segmentIds(store);
  const id = (ids.at(-1) ?? -1) + 1;
  await store.run(segmentTableSql(id));
  await store.run(`insert into segments values (?, ?, ?, now())`, [id, segmentTable(id), runId]);
  await store.run(viewsSql([...ids, id]));
  return id;
}
