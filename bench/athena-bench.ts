import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { AthenaRunner } from '../src/engines/athena-client.js';
import { ingestFromAthena, RAW_COLUMNS } from '../src/engines/athena-ingest.js';
import { partitioningFrom, REQUIRED_COLUMNS, type AthenaTable } from '../src/engines/athena-table.js';
import { Store } from '../src/store/store.js';
import type { CloudTrailRecord } from '../src/core/record.js';
import { EVENT_NAMES, makeRecord } from '../synth/records.js';
import { Random } from '../synth/random.js';

/**
 * Times `ingest --athena` (paging GetQueryResults through the AWS SDK, rebuilding each record
 * from the table's columns, writing it to the evidence cache and loading it) against a local
 * `ingest` of the same records from a JSON Lines file, in the same run. The Athena side is a
 * local stand-in that answers at once: the figures are trailhound's own overhead, not
 * Athena's query time or the network. Prints figures; never fails on a timing.
 *
 *   npm run bench:athena                            # 50,000 events
 *   node dist/bench/athena-bench.js --events 200000
 */

/** A record as the Athena table returns it: one text value per raw column (what recordFromRow reads back). */
function rowOf(r: CloudTrailRecord): Array<string | null> {
  const any = r as unknown as Record<string, unknown>;
  const ui = (any['userIdentity'] ?? {}) as Record<string, unknown>;
  const ctx = (ui['sessionContext'] ?? {}) as Record<string, Record<string, unknown>>;
  const issuer = ctx['sessionIssuer'] ?? {};
  const attrs = ctx['attributes'] ?? {};
  const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  const values: Record<string, string | null> = {
    eventversion: text(any['eventVersion']), ui_type: text(ui['type']), ui_principalid: text(ui['principalId']), ui_arn: text(ui['arn']),
    ui_accountid: text(ui['accountId']), ui_invokedby: text(ui['invokedBy']), ui_accesskeyid: text(ui['accessKeyId']), ui_username: text(ui['userName']),
    ui_mfa: text(attrs['mfaAuthenticated']), ui_created: text(attrs['creationDate']), si_type: text(issuer['type']), si_principalid: text(issuer['principalId']),
    si_arn: text(issuer['arn']), si_accountid: text(issuer['accountId']), si_username: text(issuer['userName']), eventtime: text(any['eventTime']),
    eventsource: text(any['eventSource']), eventname: text(any['eventName']), awsregion: text(any['awsRegion']), sourceipaddress: text(any['sourceIPAddress']),
    useragent: text(any['userAgent']), errorcode: text(any['errorCode']), errormessage: text(any['errorMessage']), requestparameters: json(any['requestParameters']),
    responseelements: json(any['responseElements']), additionaleventdata: json(any['additionalEventData']), requestid: text(any['requestID']), eventid: text(any['eventID']),
    readonly: text(any['readOnly']), resources: json(any['resources']), eventtype: text(any['eventType']), apiversion: text(any['apiVersion']),
    managementevent: text(any['managementEvent']), recipientaccountid: text(any['recipientAccountId']), serviceeventdetails: json(any['serviceEventDetails']),
    sharedeventid: text(any['sharedEventID']), vpcendpointid: text(any['vpcEndpointId']), eventcategory: text(any['eventCategory']), tlsdetails: json(any['tlsDetails']),
    sessioncredentialfromconsole: text(any['sessionCredentialFromConsole']),
  };
  return RAW_COLUMNS.map(([name]) => values[name] ?? null);
}

/** The smallest Athena stand-in: every query succeeds at once with `rows`, paged 1,000 at a time (header first). */
async function standIn(rows: ReadonlyArray<ReadonlyArray<string | null>>, scanned: number): Promise<{ server: Server; endpoint: string; pages: () => number }> {
  let pages = 0;
  const header = RAW_COLUMNS.map(([name]) => name);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const op = String(req.headers['x-amz-target'] ?? '').replace('AmazonAthena.', '');
      let out: unknown = {};
      if (op === 'StartQueryExecution') out = { QueryExecutionId: 'bench-query' };
      if (op === 'GetQueryExecution') out = { QueryExecution: { QueryExecutionId: 'bench-query', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: scanned, EngineExecutionTimeInMillis: 1 } } };
      if (op === 'GetQueryResults') {
        pages++;
        const offset = body['NextToken'] ? Number(body['NextToken']) : 0;
        const all = offset === 0 ? [header, ...rows.slice(0, 999)] : rows.slice(offset - 1, offset + 999);
        const next = offset === 0 ? 1000 : offset + 1000;
        out = {
          ResultSet: { Rows: all.map((values) => ({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) })), ResultSetMetadata: { ColumnInfo: header.map((name) => ({ Name: name, Label: name, Type: 'varchar' })) } },
          ...(next - 1 < rows.length ? { NextToken: String(next) } : {}),
        };
      }
      const text = JSON.stringify(out);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pages: () => pages };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '50000' } } });
  const n = Number(values.events);
  process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIAFAKEBENCH0000001';
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'fakeSecretForTheBenchOnly000000000000000';
  process.env['AWS_REGION'] ??= 'us-east-1';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const rng = new Random('athena-bench');
  const names = EVENT_NAMES.filter((e) => !e.startsWith('Console'));
  const records = Array.from({ length: n }, (_, i) => makeRecord(names[i % names.length]!, {}, rng));
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-athena-bench-'));
  try {
    const file = join(dir, 'records.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const local = await Store.open(join(dir, 'local.duckdb'));
    let t = performance.now();
    const base = await ingestFiles({ store: local, paths: [file] });
    const localSeconds = (performance.now() - t) / 1000;
    local.close();

    const rows = records.map(rowOf);
    const fake = await standIn(rows, 5 * 1024 ** 3);
    const runner = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, poll: { initialMs: 1, factor: 1, maxMs: 1 } });
    const table: AthenaTable = { catalog: 'AwsDataCatalog', database: 'security', table: 'cloudtrail_logs', columns: [...REQUIRED_COLUMNS, 'readonly', 'resources', 'apiversion', 'sharedeventid', 'additionaleventdata', 'serviceeventdetails', 'tlsdetails'], partitioning: partitioningFrom(['timestamp']) };
    t = performance.now();
    const paged = await runner.query('select 1', { label: 'paging only' });
    const pagingSeconds = (performance.now() - t) / 1000;
    const remote = await Store.open(join(dir, 'athena.duckdb'));
    t = performance.now();
    const pulled = await ingestFromAthena({ store: remote, runner, table, window: { since: new Date('2026-01-01T00:00:00Z') }, pull: { kind: 'filter', filter: {} }, cacheDir: join(dir, 'cache') });
    const athenaSeconds = (performance.now() - t) / 1000;
    remote.close();
    runner.close();
    fake.server.close();

    if (base.eventsLoaded !== n || pulled.eventsLoaded !== n || paged.rows.length !== n) throw new Error(`loaded ${base.eventsLoaded} locally, ${pulled.eventsLoaded} from the stand-in, paged ${paged.rows.length}; expected ${n}`);
    const line = (label: string, seconds: number) => `${label.padEnd(52)} ${seconds.toFixed(2).padStart(7)} s  ${Math.round(n / seconds).toLocaleString('en-US').padStart(9)} events/s  ${(seconds / localSeconds).toFixed(2)}x`;
    process.stdout.write(`${n.toLocaleString('en-US')} events, ${fake.pages() / 2} GetQueryResults pages per pass\n`);
    process.stdout.write(`${line('local ingest of the same records (JSON Lines)', localSeconds)}\n`);
    process.stdout.write(`${line('GetQueryResults paging alone (SDK, 1,000 rows/page)', pagingSeconds)}\n`);
    process.stdout.write(`${line('ingest --athena (paging, rebuild, cache, load)', athenaSeconds)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
