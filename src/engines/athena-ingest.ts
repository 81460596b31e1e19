/**
 * `ingest --athena`: pulls the events an investigation needs from the organisation's
 * CloudTrail table into the local store — those matching a filter, those of a key's whole
 * credential lineage, or those behind findings — so that timeline, remediate and analyze
 * then run offline on exactly that evidence.
 *
 * Athena holds the table's columns, not the delivered files: each record is rebuilt from
 * them (CloudTrail's field names and order) and written as JSON Lines to the evidence cache,
 * then loaded like any other file, recorded with source `athena` and the query's id.
 */
import { join } from 'node:path';
import { analyze } from '../analyze/analyze.js';
import type { EventFilter } from '../analyze/source.js';
import type { PivotSpec } from '../analyze/types.js';
import { ingestFiles, type IngestOptions, type IngestSummary, type RemoteInputInfo } from '../ingest/pipeline.js';
import { UsageError } from '../core/errors.js';
import { isoSeconds } from '../core/time.js';
import { cacheRoot, pullFolder, writeCacheFile } from '../sources/evidence-cache.js';
import type { Store } from '../store/store.js';
import { ScanLimitError, type AthenaRunner } from './athena-client.js';
import { athenaSource, athenaWhere } from './athena-source.js';
import { eventsRelation, type AthenaTable, type Window } from './athena-table.js';
import { sqlString } from './dialect.js';

/** What to pull. */
export type AthenaPull =
  | { readonly kind: 'filter'; readonly filter: EventFilter }
  /** The pivot's events and those of every credential it minted or created (as analyze follows them). */
  | { readonly kind: 'lineage'; readonly pivot: Pick<PivotSpec, 'keys' | 'ips' | 'principals' | 'sessions' | 'maxDepth'> }
  /** Events by id (e.g. the eventIds of findings). */
  | { readonly kind: 'events'; readonly eventIds: readonly string[] };

/** Options of an Athena pull. */
export interface AthenaIngestOptions {
  readonly store: Store;
  readonly runner: AthenaRunner;
  readonly table: AthenaTable;
  readonly window: Window;
  readonly pull: AthenaPull;
  /** The evidence cache folder (default `<store>.evidence`). */
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
  readonly load?: Pick<IngestOptions, 'maxFileBytes' | 'batchBytes' | 'onProgress'>;
  readonly onWarning?: (message: string) => void;
}

/** The ingest summary, with what the Athena part did. */
export interface AthenaIngestSummary extends IngestSummary {
  readonly source: 'athena';
  readonly athena: { readonly queries: number; readonly rows: number; readonly dataScannedBytes: number; readonly costUsd: number; readonly queryExecutionIds: readonly string[] };
}

/** The CloudTrail columns read back (result name, Trino expression over the table), in record order. */
export const RAW_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['eventversion', 'eventversion'],
  ['ui_type', 'useridentity.type'],
  ['ui_principalid', 'useridentity.principalid'],
  ['ui_arn', 'useridentity.arn'],
  ['ui_accountid', 'useridentity.accountid'],
  ['ui_invokedby', 'useridentity.invokedby'],
  ['ui_accesskeyid', 'useridentity.accesskeyid'],
  ['ui_username', 'useridentity.username'],
  ['ui_mfa', 'useridentity.sessioncontext.attributes.mfaauthenticated'],
  ['ui_created', 'useridentity.sessioncontext.attributes.creationdate'],
  ['si_type', 'useridentity.sessioncontext.sessionissuer.type'],
  ['si_principalid', 'useridentity.sessioncontext.sessionissuer.principalid'],
  ['si_arn', 'useridentity.sessioncontext.sessionissuer.arn'],
  ['si_accountid', 'useridentity.sessioncontext.sessionissuer.accountid'],
  ['si_username', 'useridentity.sessioncontext.sessionissuer.username'],
  ['eventtime', 'eventtime'],
  ['eventsource', 'eventsource'],
  ['eventname', 'eventname'],
  ['awsregion', 'awsregion'],
  ['sourceipaddress', 'sourceipaddress'],
  ['useragent', 'useragent'],
  ['errorcode', 'errorcode'],
  ['errormessage', 'errormessage'],
  ['requestparameters', 'requestparameters'],
  ['responseelements', 'responseelements'],
  ['additionaleventdata', 'additionaleventdata'],
  ['requestid', 'requestid'],
  ['eventid', 'eventid'],
  ['readonly', 'readonly'],
  ['resources', 'json_format(cast(resources as json))'],
  ['eventtype', 'eventtype'],
  ['apiversion', 'apiversion'],
  ['managementevent', 'managementevent'],
  ['recipientaccountid', 'recipientaccountid'],
  ['serviceeventdetails', 'serviceeventdetails'],
  ['sharedeventid', 'sharedeventid'],
  ['vpcendpointid', 'vpcendpointid'],
  ['eventcategory', 'eventcategory'],
  ['tlsdetails', 'json_format(cast(tlsdetails as json))'],
  ['sessioncredentialfromconsole', 'sessioncredentialfromconsole'],
];

/** Field names as CloudTrail writes them, for the JSON read back from struct columns. */
const CAMEL: Readonly<Record<string, string>> = {
  arn: 'ARN', accountid: 'accountId', type: 'type', tlsversion: 'tlsVersion', ciphersuite: 'cipherSuite', clientprovidedhostheader: 'clientProvidedHostHeader',
};

/** The raw columns as extra columns of the events relation (prefixed raw_), NULL for a column the table lacks. */
function rawColumns(table: AthenaTable): Array<[string, string]> {
  return RAW_COLUMNS.map(([alias, expr]) => {
    const column = /^json_format\(cast\((\w+) as json\)\)$/.exec(expr)?.[1] ?? expr.split('.')[0]!;
    return [`raw_${alias}`, table.columns.includes(column) ? expr : 'cast(null as varchar)'];
  });
}

function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null).map(([k, v]) => [CAMEL[k.toLowerCase()] ?? k, camelKeys(v)]));
  }
  return value;
}

/** Drops undefined and null fields, keeping the order of the rest. */
function compact(object: Record<string, unknown>): Record<string, unknown> | undefined {
  const out = Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== null));
  return Object.keys(out).length ? out : undefined;
}

/** Rebuilds a CloudTrail record from a row of the raw columns. */
export function recordFromRow(row: Readonly<Record<string, string | null>>): Record<string, unknown> {
  const record = rebuild(row);
  // CloudTrail writes these two as null when a call has none; the table cannot tell null from absent.
  return { ...record, requestParameters: record['requestParameters'] ?? null, responseElements: record['responseElements'] ?? null };
}

function rebuild(row: Readonly<Record<string, string | null>>): Record<string, unknown> {
  const v = (name: string) => row[name] ?? undefined;
  const bool = (name: string) => (v(name) === undefined ? undefined : v(name)!.toLowerCase() === 'true');
  const issuer = compact({ type: v('si_type'), principalId: v('si_principalid'), arn: v('si_arn'), accountId: v('si_accountid'), userName: v('si_username') });
  const attributes = compact({ creationDate: v('ui_created'), mfaAuthenticated: v('ui_mfa') });
  const sessionContext = compact({ sessionIssuer: issuer, attributes });
  return compact({
    eventVersion: v('eventversion'),
    userIdentity: compact({
      type: v('ui_type'),
      principalId: v('ui_principalid'),
      arn: v('ui_arn'),
      accountId: v('ui_accountid'),
      accessKeyId: v('ui_accesskeyid'),
      userName: v('ui_username'),
      sessionContext,
      invokedBy: v('ui_invokedby'),
    }),
    eventTime: v('eventtime'),
    eventSource: v('eventsource'),
    eventName: v('eventname'),
    awsRegion: v('awsregion'),
    sourceIPAddress: v('sourceipaddress'),
    userAgent: v('useragent'),
    errorCode: v('errorcode'),
    errorMessage: v('errormessage'),
    requestParameters: parseJson(row['requestparameters']),
    responseElements: parseJson(row['responseelements']),
    additionalEventData: parseJson(row['additionaleventdata']),
    requestID: v('requestid'),
    eventID: v('eventid'),
    readOnly: bool('readonly'),
    resources: camelKeys(parseJson(row['resources'])),
    eventType: v('eventtype'),
    apiVersion: v('apiversion'),
    managementEvent: bool('managementevent'),
    recipientAccountId: v('recipientaccountid'),
    serviceEventDetails: parseJson(row['serviceeventdetails']),
    sharedEventID: v('sharedeventid'),
    vpcEndpointId: v('vpcendpointid'),
    eventCategory: v('eventcategory'),
    tlsDetails: camelKeys(parseJson(row['tlsdetails'])),
    sessionCredentialFromConsole: v('sessioncredentialfromconsole'),
  })!;
}

const EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;
/** Event ids per query: inlined (checked against EVENT_ID) so that thousands fit one statement. */
const IDS_PER_QUERY = 5000;
/** Lineage events pulled at most. */
const LINEAGE_EVENT_LIMIT = 200_000;

/** The queries of a pull (one scan each): SQL with its execution parameters. */
export function pullQueries(table: AthenaTable, window: Window, filter: readonly EventFilter[] | { eventIds: readonly string[] }): Array<{ sql: string; parameters: readonly string[] }> {
  const select = (where: string) => `-- trailhound ingest --athena
with events as (
  ${eventsRelation(table, window, rawColumns(table)).sql}
)
select
  ${RAW_COLUMNS.map(([alias]) => `raw_${alias} as ${alias}`).join(',\n  ')}
from events
where ${where}
order by eventtime, eventid`;
  if ('eventIds' in filter) {
    const bad = filter.eventIds.find((id) => !EVENT_ID.test(id));
    if (bad !== undefined) throw new UsageError(`"${bad.slice(0, 80)}" is not a CloudTrail event id`);
    const queries: Array<{ sql: string; parameters: readonly string[] }> = [];
    const ids = [...new Set(filter.eventIds)].sort();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      queries.push({ sql: select(`eventid in (${ids.slice(i, i + IDS_PER_QUERY).map(sqlString).join(', ')})`), parameters: [] });
    }
    return queries;
  }
  // Several filters (a lineage's keys, the pivot's addresses…) are OR-ed in one scan.
  const wheres = filter.map(athenaWhere);
  return [{ sql: select(wheres.map((w) => `(${w.sql})`).join('\n  or ')), parameters: wheres.flatMap((w) => w.parameters) }];
}

/** Pulls events from Athena into the store; see AthenaPull for what can be pulled. */
export async function ingestFromAthena(options: AthenaIngestOptions): Promise<AthenaIngestSummary> {
  const { store, runner, table, window, pull } = options;
  const root = cacheRoot(store, options.cacheDir);
  const before = { ...runner.totals };
  const signal = options.signal;
  let filters: EventFilter[] | { eventIds: readonly string[] };
  if (pull.kind === 'lineage') {
    // analyze follows the credentials on Athena; the pull then takes exactly the events of the lineage it found.
    const source = athenaSource(runner, table, { window, ...(signal ? { signal } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
    const result = await analyze(
      source,
      { keys: pull.pivot.keys, ips: pull.pivot.ips, principals: pull.pivot.principals, sessions: pull.pivot.sessions, ...window, ...(pull.pivot.maxDepth !== undefined ? { maxDepth: pull.pivot.maxDepth } : {}) },
      { eventLimit: LINEAGE_EVENT_LIMIT },
    );
    if (result.eventsTruncated) options.onWarning?.(`the lineage has more than ${LINEAGE_EVENT_LIMIT} events; only the first ${LINEAGE_EVENT_LIMIT} are pulled: narrow --since/--until`);
    if (result.events.length === 0) throw new UsageError('the pivot has no events on Athena in this window; nothing to pull');
    filters = { eventIds: result.events.map((e) => e.eventId) };
  } else if (pull.kind === 'events') {
    if (pull.eventIds.length === 0) throw new UsageError('no event ids to pull (the findings list none)');
    filters = { eventIds: pull.eventIds };
  } else {
    filters = [pull.filter];
  }
  if (!eventsRelation(table, window).constraint.dateBounded) {
    const why = `the days of ${table.database}.${table.table} are not constrained (no --since, or no date partition)`;
    if (runner.settings.maxScanBytes !== undefined) throw new ScanLimitError(`refusing to query Athena under --max-scan-gb: ${why}; pass --since (and --until)`);
    options.onWarning?.(`${why}; every partition will be scanned`);
  }
  const paths: string[] = [];
  const uris = new Map<string, RemoteInputInfo>();
  const queryIds: string[] = [];
  let rows = 0;
  for (const query of pullQueries(table, window, filters)) {
    const result = await runner.query(query.sql, { label: 'ingest --athena', parameters: query.parameters, ...(signal ? { signal } : {}) });
    queryIds.push(result.stats.queryExecutionId);
    rows += result.rows.length;
    if (result.rows.length === 0) continue;
    const body = result.rows.map((row) => JSON.stringify(recordFromRow(row))).join('\n') + '\n';
    const path = join(root, 'athena', pullFolder(query.sql + JSON.stringify(query.parameters)), `${result.stats.queryExecutionId}.jsonl`);
    await writeCacheFile(path, body);
    paths.push(path);
    uris.set(path, { uri: `athena://${runner.region}/${table.catalog}/${table.database}/${table.table}/${result.stats.queryExecutionId}` });
  }
  const summary = await ingestFiles({
    paths,
    store,
    source: 'athena',
    describeInput: (path) => uris.get(path),
    arguments: {
      athena: { catalog: table.catalog, database: table.database, table: table.table, workgroup: runner.settings.workgroup ?? null, region: runner.region },
      pull: pull.kind === 'events' ? { kind: 'events', count: pull.eventIds.length } : pull,
      since: window.since ? isoSeconds(window.since) : null,
      until: window.until ? isoSeconds(window.until) : null,
      regions: window.regions ?? null,
      accounts: window.accounts ?? null,
      queryExecutionIds: queryIds,
    },
    ...(signal ? { signal } : {}),
    ...(options.load ?? {}),
  });
  return {
    ...summary,
    source: 'athena',
    athena: {
      queries: runner.totals.queries - before.queries,
      rows,
      dataScannedBytes: runner.totals.dataScannedBytes - before.dataScannedBytes,
      costUsd: runner.totals.costUsd - before.costUsd,
      queryExecutionIds: queryIds,
    },
  };
}
