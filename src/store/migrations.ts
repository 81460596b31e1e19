import { ROW_GROUP_ROWS, segmentTable, segmentTableSql, viewsSql } from './segments.js';

/** One step of the store's schema history; applied in order, each in its own transaction. */
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

${segmentTableSql(0)}
insert into segments values (0, '${segmentTable(0)}', null, now());

${viewsSql([0])}
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
select access_key_id, segment_id, segment_row // ${ROW_GROUP_ROWS}, count(*)
from event_rows where access_key_id is not null group by all order by access_key_id;

create table key_groups_state (through_input bigint not null);
insert into key_groups_state select coalesce(max(input_id), 0) from inputs;
`,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
