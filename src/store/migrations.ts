/** One step of the store's schema history; applied in order, each in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * The `events` columns follow the Athena CloudTrail table's names; the nested parts
 * (useridentity, requestparameters, …) are virtual columns over the stored original record,
 * so each record is stored once and loads stay close to DuckDB's raw read speed.
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
  filtered bigint,
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

create table events (
  eventkey varchar not null,
  eventversion varchar,
  eventtime timestamptz,
  eventsource varchar,
  eventname varchar,
  awsregion varchar,
  sourceipaddress varchar,
  useragent varchar,
  errorcode varchar,
  errormessage varchar,
  requestid varchar,
  eventid varchar,
  eventtype varchar,
  apiversion varchar,
  readonly boolean,
  managementevent boolean,
  recipientaccountid varchar,
  sharedeventid varchar,
  vpcendpointid varchar,
  eventcategory varchar,
  sessioncredentialfromconsole varchar,
  useridentity_type varchar,
  principal_arn varchar,
  principal_id varchar,
  principal_account varchar,
  access_key_id varchar,
  user_name varchar,
  session_issuer_arn varchar,
  session_issuer_name varchar,
  invoked_by varchar,
  input_id bigint not null,
  run_id varchar not null,
  record_index integer,
  record json not null,
  useridentity json generated always as (json_extract(record, '$.userIdentity')) virtual,
  requestparameters json generated always as (json_extract(record, '$.requestParameters')) virtual,
  responseelements json generated always as (json_extract(record, '$.responseElements')) virtual,
  additionaleventdata json generated always as (json_extract(record, '$.additionalEventData')) virtual,
  resources json generated always as (json_extract(record, '$.resources')) virtual,
  serviceeventdetails json generated always as (json_extract(record, '$.serviceEventDetails')) virtual,
  tlsdetails json generated always as (json_extract(record, '$.tlsDetails')) virtual
);
`,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
