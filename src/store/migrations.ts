/** One step of the store's schema history; applied in order, each in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * `events` is what every query reads: the Athena CloudTrail table's column names, with the
 * nested parts (useridentity, requestparameters, …) extracted on read from the stored
 * original record. The record is stored once, in `event_rows`, so loads stay close to
 * DuckDB's raw read speed (stored or generated copies of the nested parts made loads
 * 30-50% slower).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events, ingest runs, inputs manifest, digests',
    sql: `
create table ingest_runs (
  run_id varchar primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  status varchar not null,
  source varchar not null,
  arguments json,
  tool_version varchar,
  files_read bigint,
  events_loaded bigint,
  duplicates bigint,
  files_skipped bigint
);

create sequence input_id_seq start 1;

create table inputs (
  input_id bigint primary key,
  run_id varchar not null,
  source varchar not null,
  uri varchar not null,
  sha256 varchar,
  size_bytes bigint,
  format varchar,
  status varchar not null,
  reason varchar,
  records bigint,
  loaded bigint,
  duplicates bigint,
  rejected bigint,
  scoped boolean not null default false,
  account varchar,
  region varchar,
  recorded_at timestamptz not null
);

create table digests (
  input_id bigint not null,
  uri varchar not null,
  sha256 varchar not null,
  account varchar,
  region varchar,
  digest_start timestamptz,
  digest_end timestamptz,
  content json not null
);

create table event_rows (
  eventkey varchar not null,
  eventtime timestamptz,
  eventsource varchar,
  eventname varchar,
  awsregion varchar,
  sourceipaddress varchar,
  useragent varchar,
  errorcode varchar,
  eventid varchar,
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
  record json using compression fsst not null
);

create view events as
select
  *,
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
`,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
