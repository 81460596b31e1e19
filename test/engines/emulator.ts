/**
 * An Athena stand-in for tests: CloudTrail records loaded into an in-memory DuckDB table
 * shaped like the documented Athena CloudTrail table (eventtime as text, useridentity as a
 * struct with lower-case fields, requestparameters as JSON text, readonly as text, partition
 * columns), with DuckDB macros standing in for the Trino functions the dialect layer emits.
 * The fake Athena server answers each query by running its Trino SQL here.
 *
 * It checks what the rendered SQL means (columns, partitions, the translated functions,
 * json_extract_scalar returning NULL for objects as Trino does); it does not check Trino's
 * stricter typing — the parser test and the explicit casts in queries/ cover that.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { FakeAnswer, FakeColumn, FakeQuery, FakeTable } from '../fakes/athena-server.js';
import { CLOUDTRAIL_COLUMNS } from './trino.js';

/** How the emulated table is partitioned. */
export type EmulatedLayout = 'projection' | 'ymd' | 'none';

const SHIMS = [
  `create macro regexp_like(s, p) as regexp_matches(s, p)`,
  `create macro from_iso8601_timestamp(s) as cast(s as timestamptz)`,
  `create macro to_iso8601(t) as strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ')`,
  `create macro json_format(j) as cast(j as varchar)`,
  `create macro date_format(t, f) as strftime(t, replace(replace(f, '%i', '%M'), '%s', '%S'))`,
  // Trino's json_extract_scalar gives NULL for an object or array; DuckDB's json_extract_string gives its text.
  `create macro json_extract_scalar(j, p) as case when json_type(json_extract(j, p)) in ('OBJECT', 'ARRAY') then null else json_extract_string(j, p) end`,
  `create macro to_unixtime(t) as epoch(t)`,
];

const text = (path: string) => `json_extract_string(j, '${path}')`;
const jsonText = (path: string) => `case when json_type(json_extract(j, '${path}')) in ('NULL') or json_extract(j, '${path}') is null then null else cast(json_extract(j, '${path}') as varchar) end`;

const USER_IDENTITY = `struct_pack(
  type := ${text('$.userIdentity.type')},
  principalid := ${text('$.userIdentity.principalId')},
  arn := ${text('$.userIdentity.arn')},
  accountid := ${text('$.userIdentity.accountId')},
  invokedby := ${text('$.userIdentity.invokedBy')},
  accesskeyid := ${text('$.userIdentity.accessKeyId')},
  username := ${text('$.userIdentity.userName')},
  sessioncontext := struct_pack(
    attributes := struct_pack(mfaauthenticated := ${text('$.userIdentity.sessionContext.attributes.mfaAuthenticated')}, creationdate := ${text('$.userIdentity.sessionContext.attributes.creationDate')}),
    sessionissuer := struct_pack(type := ${text('$.userIdentity.sessionContext.sessionIssuer.type')}, principalid := ${text('$.userIdentity.sessionContext.sessionIssuer.principalId')}, arn := ${text('$.userIdentity.sessionContext.sessionIssuer.arn')}, accountid := ${text('$.userIdentity.sessionContext.sessionIssuer.accountId')}, username := ${text('$.userIdentity.sessionContext.sessionIssuer.userName')})
  )
)`;

const COLUMN_SQL: Record<(typeof CLOUDTRAIL_COLUMNS)[number], string> = {
  eventversion: text('$.eventVersion'),
  useridentity: USER_IDENTITY,
  eventtime: text('$.eventTime'),
  eventsource: text('$.eventSource'),
  eventname: text('$.eventName'),
  awsregion: text('$.awsRegion'),
  sourceipaddress: text('$.sourceIPAddress'),
  useragent: text('$.userAgent'),
  errorcode: text('$.errorCode'),
  errormessage: text('$.errorMessage'),
  requestparameters: jsonText('$.requestParameters'),
  responseelements: jsonText('$.responseElements'),
  additionaleventdata: jsonText('$.additionalEventData'),
  requestid: text('$.requestID'),
  eventid: text('$.eventID'),
  resources: `cast(json_extract(j, '$.resources') as varchar)`,
  eventtype: text('$.eventType'),
  apiversion: text('$.apiVersion'),
  readonly: text('$.readOnly'),
  recipientaccountid: text('$.recipientAccountId'),
  serviceeventdetails: jsonText('$.serviceEventDetails'),
  sharedeventid: text('$.sharedEventID'),
  vpcendpointid: text('$.vpcEndpointId'),
  eventcategory: text('$.eventCategory'),
  tlsdetails: `cast(json_extract(j, '$.tlsDetails') as varchar)`,
  sessioncredentialfromconsole: text('$.sessionCredentialFromConsole'),
};

const PARTITIONS: Record<EmulatedLayout, ReadonlyArray<readonly [string, string]>> = {
  projection: [
    ['account', text('$.recipientAccountId')],
    ['region', text('$.awsRegion')],
    ['timestamp', `strftime(cast(${text('$.eventTime')} as timestamptz), '%Y/%m/%d')`],
  ],
  ymd: [
    ['region', text('$.awsRegion')],
    ['year', `strftime(cast(${text('$.eventTime')} as timestamptz), '%Y')`],
    ['month', `strftime(cast(${text('$.eventTime')} as timestamptz), '%m')`],
    ['day', `strftime(cast(${text('$.eventTime')} as timestamptz), '%d')`],
  ],
  none: [],
};

/** CloudTrail records in an Athena-shaped DuckDB table, answering the fake's queries. */
export class AthenaEmulator {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly layout: EmulatedLayout,
    readonly database: string,
    readonly table: string,
  ) {}

  /** Loads `records` into `awsdatacatalog.<database>.<table>`. */
  static async create(records: readonly unknown[], layout: EmulatedLayout = 'projection', database = 'security', table = 'cloudtrail_logs'): Promise<AthenaEmulator> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const dir = mkdtempSync(join(tmpdir(), 'trailhound-athena-'));
    try {
      const file = join(dir, 'records.jsonl');
      writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await connection.run(`set TimeZone = 'UTC'`);
      for (const shim of SHIMS) await connection.run(shim);
      await connection.run(`attach ':memory:' as awsdatacatalog`);
      await connection.run(`create schema awsdatacatalog.${database}`);
      const columns = [...Object.entries(COLUMN_SQL), ...PARTITIONS[layout]].map(([name, sql]) => `${sql} as "${name}"`);
      await connection.run(`create table awsdatacatalog.${database}.${table} as select ${columns.join(',\n')} from read_json_objects('${file.replace(/'/g, "''")}', format = 'newline_delimited') as r(j)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return new AthenaEmulator(instance, connection, layout, database, table);
  }

  /** GetTableMetadata's view of the table. */
  metadata(): FakeTable {
    return {
      columns: CLOUDTRAIL_COLUMNS.map((name) => ({ name, type: name === 'useridentity' ? 'struct<type:string,arn:string>' : 'string' })),
      partitionKeys: PARTITIONS[this.layout].map(([name]) => ({ name, type: 'string' })),
      parameters: this.layout === 'projection' ? { 'projection.enabled': 'true', 'projection.timestamp.type': 'date', 'projection.timestamp.format': 'yyyy/MM/dd' } : {},
    };
  }

  /** Runs a query's SQL (with its execution parameters) and answers in Athena's text format. */
  async answer(query: FakeQuery, scannedBytes?: number): Promise<FakeAnswer> {
    try {
      const values = query.parameters.map(parseLiteral);
      // DuckDB reads JSON path keys quoted as ."key", Trino as ["key"].
      const sql = query.sql.replace(/\[("(?:[^"\\]|\\.)*")\]/g, '.$1');
      const reader = await this.connection.runAndReadAll(sql, values as never);
      const names = reader.columnNames();
      const types = reader.columnTypes().map((t) => athenaType(String(t)));
      const columns: FakeColumn[] = names.map((name, i) => ({ name, type: types[i]! }));
      const rows = reader.getRowsJS().map((row) => row.map((v) => athenaText(v)));
      return { kind: 'rows', columns, rows, ...(scannedBytes !== undefined ? { scannedBytes } : {}) };
    } catch (error) {
      return { kind: 'fail', reason: `SYNTAX_ERROR: ${(error as Error).message.split('\n')[0]}` };
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** An Athena execution parameter (an SQL literal) as a JS value. */
function parseLiteral(literal: string): string | number | boolean | null {
  if (/^'.*'$/s.test(literal)) return literal.slice(1, -1).replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(literal)) return Number(literal);
  if (/^(true|false)$/i.test(literal)) return literal.toLowerCase() === 'true';
  if (/^null$/i.test(literal)) return null;
  throw new Error(`bad execution parameter ${literal}`);
}

function athenaType(duck: string): string {
  if (duck === 'VARCHAR') return 'varchar';
  if (duck === 'BIGINT' || duck === 'HUGEINT') return 'bigint';
  if (duck === 'INTEGER') return 'integer';
  if (duck === 'BOOLEAN') return 'boolean';
  if (duck === 'DOUBLE') return 'double';
  if (duck.startsWith('TIMESTAMP')) return 'timestamp with time zone';
  if (duck.endsWith('[]')) return 'array';
  return 'varchar';
}

/** A value as GetQueryResults shows it (every value is text; timestamps as `2026-03-04 01:47:12.000 UTC`). */
function athenaText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return `${value.toISOString().replace('T', ' ').replace('Z', '')} UTC`;
  if (Array.isArray(value)) return `[${value.map((v) => athenaText(v) ?? 'null').join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
