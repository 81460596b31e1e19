/**
 * One step of the store's schema history; applied in order, each in its own transaction.
 * A released migration is frozen text: it never reads live code (a segment's columns, a
 * constant), so a store created by any release replays the same history.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * `events` is what every query reads: the Athena CloudTrail table's column names, with the
 * nested parts (useridentity, requestparameters, …) extracted on read from the stored
 * original record. The record is stored once, in the segment tables behind `event_rows`,
 * so loads stay close to DuckDB's raw read speed (stored or generated copies of the nested
 * parts made loads 30-50% slower).
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

create table segments (
  segment_id integer primary key,
  table_name varchar not null,
  run_id varchar,
  created_at timestamptz not null
);

create table event_rows_0 (
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
  record json using compression fsst not null
);
insert into segments values (0, 'event_rows_0', null, now());

create or replace view event_rows as
select *, 0 as segment_id, rowid as segment_row from event_rows_0;

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
`,
  },
  {
    version: 2,
    description: 'detection runs and findings',
    sql: `
create table detect_runs (
  detect_run_id varchar primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  arguments json,
  tool_version varchar,
  detections integer,
  findings integer
);

create table findings (
  detect_run_id varchar not null,
  detection varchar not null,
  title varchar not null,
  severity varchar not null,
  outcome varchar not null,
  tactics varchar[],
  techniques varchar[],
  event_ids varchar[] not null,
  eventtime timestamptz,
  eventname varchar,
  actor varchar,
  access_key_id varchar,
  sourceipaddress varchar,
  account varchar,
  region varchar,
  resource varchar,
  summary varchar
);
`,
  },
  {
    version: 3,
    description: 'remote object manifest and pull checkpoints for AWS sources',
    sql: `
create table remote_objects (
  source varchar not null,
  uri varchar not null,
  etag varchar not null,
  size_bytes bigint,
  last_modified timestamptz,
  sha256 varchar not null,
  cache_path varchar not null,
  signature varchar,
  signature_algorithm varchar,
  fetched_at timestamptz not null,
  primary key (uri, etag)
);

create table pull_checkpoints (
  source varchar not null,
  pull_key varchar not null,
  region varchar,
  target varchar,
  window_start timestamptz,
  window_end timestamptz,
  filter varchar,
  next_token varchar,
  pages bigint not null,
  events bigint not null,
  done boolean not null,
  updated_at timestamptz not null,
  primary key (source, pull_key)
);
`,
  },
  {
    version: 4,
    description: 'evidence integrity: verify runs and per-file results',
    sql: `
create table verify_runs (
  verify_run_id varchar primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  arguments json,
  tool_version varchar,
  digests bigint,
  digests_valid bigint,
  signatures_verified bigint,
  log_files bigint,
  log_files_verified bigint,
  log_files_modified bigint,
  log_files_missing bigint,
  digest_gaps bigint,
  silent_hours bigint
);

create table verify_results (
  verify_run_id varchar not null,
  kind varchar not null,
  status varchar not null,
  uri varchar,
  digest_uri varchar,
  account varchar,
  region varchar,
  period_start timestamptz,
  period_end timestamptz,
  expected_sha256 varchar,
  actual_sha256 varchar,
  detail varchar
);
`,
  },
  {
    version: 5,
    description: 'events per account, region and day, kept by every load',
    sql: `
create table event_days (
  account varchar,
  region varchar,
  day date not null,
  events bigint not null,
  first_event timestamptz not null,
  last_event timestamptz not null
);

insert into event_days
select recipientaccountid, awsregion, (eventtime at time zone 'UTC')::date, count(*), min(eventtime), max(eventtime)
from event_rows where eventtime is not null group by all;
`,
  },
  {
    version: 6,
    description: 'where each access key acts: segment and row group, kept by every load',
    sql: `
create table key_groups (
  access_key_id varchar not null,
  segment_id integer not null,
  row_group bigint not null,
  events bigint not null
);

insert into key_groups
select access_key_id, segment_id, segment_row // 122880, count(*)
from event_rows where access_key_id is not null group by all order by access_key_id;

create table key_groups_state (through_input bigint not null);
insert into key_groups_state select coalesce(max(input_id), 0) from inputs;
`,
  },
  {
    version: 7,
    description: 'evidence integrity: digest of the records loaded from each input, rejected and conflicting records',
    sql: `
alter table inputs add column records_digest varchar;

create table record_issues (
  run_id varchar not null,
  input_id bigint not null,
  record_index integer,
  eventkey varchar,
  kind varchar not null,
  detail varchar not null
);
`,
  },
  {
    version: 8,
    description: 'account snapshots: what existed when, with where each snapshot came from',
    sql: `
create table snapshots (
  snapshot_id varchar primary key,
  taken_at timestamptz not null,
  finished_at timestamptz,
  account varchar,
  caller_arn varchar,
  source varchar not null,
  uri varchar,
  sha256 varchar,
  duration_ms bigint,
  calls bigint,
  tool_version varchar,
  regions json,
  credential_report json,
  loaded_at timestamptz not null
);

create table snapshot_resources (
  snapshot_id varchar not null,
  kind varchar not null,
  region varchar,
  id varchar not null,
  arn varchar,
  name varchar,
  state varchar,
  type varchar,
  created_at timestamptz,
  creator varchar,
  tags json,
  detail json
);

create table snapshot_gaps (
  snapshot_id varchar not null,
  service varchar not null,
  region varchar,
  call varchar not null,
  reason varchar not null
);
`,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
