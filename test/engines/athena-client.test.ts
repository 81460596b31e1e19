import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaCancelledError, AthenaQueryError, AthenaRunner, formatBytes, queryCost, statsLine, type QueryStats } from '../../src/engines/athena-client.js';
import { FakeAthena, type FakeAnswer, type FakeAthenaOptions } from '../fakes/athena-server.js';
import { FAKE_AWS_ENV, useFakeAwsEnv } from '../fakes/http.js';

const rows = (n: number): FakeAnswer => ({
  kind: 'rows',
  columns: [
    { name: 'eventid', type: 'varchar' },
    { name: 'n', type: 'bigint' },
    { name: 'note', type: 'varchar' },
  ],
  rows: Array.from({ length: n }, (_, i) => [`id-${i}`, String(i), i % 2 === 0 ? null : `row ${i}`]),
  scannedBytes: 42 * 1024 * 1024,
});

describe('an Athena query from start to finish', () => {
  let fake: FakeAthena;
  let runner: AthenaRunner;
  const stats: Array<[string, QueryStats]> = [];
  const start = async (options: Partial<FakeAthenaOptions> & Pick<FakeAthenaOptions, 'answer'>, settings: Partial<ConstructorParameters<typeof AthenaRunner>[0]> = {}) => {
    fake = await new FakeAthena(options).start();
    runner = new AthenaRunner(
      { database: 'security', table: 'cloudtrail_logs', workgroup: 'forensics', endpointUrl: fake.endpoint, poll: { initialMs: 2, factor: 2, maxMs: 8 }, maxAttempts: 2, backoffMs: 1, ...settings },
      (label, s) => stats.push([label, s]),
    );
  };
  beforeEach(() => {
    useFakeAwsEnv();
    stats.length = 0;
  });
  afterEach(async () => {
    runner?.close();
    await fake?.stop();
  });

  it('starts, polls through QUEUED and RUNNING to SUCCEEDED, and pages the results without the header row', async () => {
    await start({ answer: () => rows(7), queuedPolls: 2, runningPolls: 3, pageSize: 3 });
    const result = await runner.query('select eventid, n, note from t where x = ?', { label: 'probe', parameters: ["'it''s'"] });
    expect(result.columns).toEqual(['eventid', 'n', 'note']);
    expect(result.rows).toHaveLength(7);
    expect(result.rows[0]).toEqual({ eventid: 'id-0', n: '0', note: null });
    expect(result.rows[6]).toEqual({ eventid: 'id-6', n: '6', note: null });
    expect(result.rows[5]).toEqual({ eventid: 'id-5', n: '5', note: 'row 5' });
    // 2 QUEUED + 3 RUNNING + 1 SUCCEEDED polls; header + 7 rows in pages of 3 = 3 pages.
    expect(fake.operations).toEqual(['StartQueryExecution', ...Array(6).fill('GetQueryExecution'), 'GetQueryResults', 'GetQueryResults', 'GetQueryResults']);
    const q = fake.queries[0]!;
    expect(q.parameters).toEqual(["'it''s'"]);
    expect(q.workgroup).toBe('forensics');
    expect(q.database).toBe('security');
    expect(result.stats).toMatchObject({ state: 'SUCCEEDED', dataScannedBytes: 42 * 1024 * 1024, queryExecutionId: q.id });
    expect(result.stats.costUsd).toBeCloseTo(queryCost(42 * 1024 * 1024), 12);
    expect(stats.map(([label]) => label)).toEqual(['probe']);
    expect(runner.totals).toEqual({ queries: 1, dataScannedBytes: 42 * 1024 * 1024, costUsd: result.stats.costUsd });
  });

  it('backs off and starts again when Athena refuses for the concurrent-query limit', async () => {
    await start({ answer: () => rows(2), throttleStarts: 2 }, { maxAttempts: 3 });
    const result = await runner.query('select 1', { label: 'busy' });
    expect(result.rows).toHaveLength(2);
    expect(fake.operations.filter((o) => o === 'StartQueryExecution')).toHaveLength(3);
    expect(fake.queries).toHaveLength(1);
  });

  it('gives up after its attempts with a one-line reason', async () => {
    await start({ answer: () => rows(2), throttleStarts: 10 });
    await expect(runner.query('select 1', { label: 'busy' })).rejects.toThrow(/^Athena StartQueryExecution failed in us-east-1: throttled by AWS \(TooManyRequestsException\) after every retry; run the same command again later to resume$/);
  });

  it('signs its requests with the credentials and region given, and names the Athena target', async () => {
    await start({ answer: () => rows(1) }, { region: 'eu-west-1' });
    await runner.query('select 1');
    const requests = (fake as unknown as { server: { requests: Array<{ region?: string; accessKeyId?: string; headers: Record<string, unknown> }> } }).server.requests;
    expect(requests.every((r) => r.region === 'eu-west-1' && r.accessKeyId === FAKE_AWS_ENV.AWS_ACCESS_KEY_ID)).toBe(true);
    expect(requests.every((r) => String(r.headers['content-type']).startsWith('application/x-amz-json-1.1'))).toBe(true);
  });

  it('reports a FAILED query with the reason Athena gives', async () => {
    await start({ answer: () => ({ kind: 'fail', reason: "COLUMN_NOT_FOUND: line 3:5: Column 'eventcategory' cannot be resolved" }) });
    const error = await runner.query('select eventcategory from t', { label: 'cloudtrail_logging_stopped' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect((error as Error).message).toMatch(/^cloudtrail_logging_stopped: query [0-9a-f-]+ failed on Athena: COLUMN_NOT_FOUND: line 3:5: Column 'eventcategory' cannot be resolved$/);
    expect(stats[0]![1]).toMatchObject({ state: 'FAILED', costUsd: 0 });
    expect(fake.operations).not.toContain('GetQueryResults');
  });

  it('shows control characters in a reason as \\xNN (a reason may quote a log value)', async () => {
    await start({ answer: () => ({ kind: 'fail', reason: 'INVALID_CAST_ARGUMENT: Value cannot be cast: \u001b[2J\u001b]0;pwned\u0007' }) });
    const error = (await runner.query('select 1', { label: 'x' }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/failed on Athena: INVALID_CAST_ARGUMENT: Value cannot be cast: \\x1b\[2J\\x1b\]0;pwned\\x07$/);
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('stops the query on Athena when the caller aborts (Ctrl-C)', async () => {
    await start({ answer: () => rows(1), queuedPolls: 1, runningPolls: 1000 });
    const controller = new AbortController();
    const pending = runner.query('select 1', { signal: controller.signal, label: 'long' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AthenaCancelledError);
    expect(fake.operations.at(-1)).toBe('StopQueryExecution');
    expect(fake.queries[0]!.stopped).toBe(true);
  });

  it('reports a query cancelled by someone else as cancelled', async () => {
    await start({ answer: () => rows(1), runningPolls: 1000 });
    const pending = runner.query('select 1', { label: 'x' });
    // Once the query has started (a loaded machine may take longer than a poll or two).
    while (fake.queries.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.queries[0]!.stopped = true;
    await expect(pending).rejects.toThrow(/^x: query .* was cancelled on Athena \(Query cancelled by user\)$/);
  });

  it('turns an AWS error into one line that names the call and what is missing', async () => {
    await start({ answer: () => rows(1) }, { database: 'nope', table: 'missing' });
    await expect(runner.describeTable()).rejects.toThrow(/^Athena GetTableMetadata failed in us-east-1: MetadataException: Table missing not found in database nope$/);
  });

  it('says how to give a result location when the workgroup has none', async () => {
    await start({ answer: () => rows(1), requireOutputLocation: true });
    await expect(runner.query('select 1')).rejects.toThrow(/No output location provided\..*; pass --athena-output s3:\/\/bucket\/prefix\/ or use a workgroup that sets one$/);
  });

  it('reads the partition keys of the table', async () => {
    await start({
      answer: () => rows(1),
      tables: { 'security.cloudtrail_logs': { columns: [{ name: 'eventid', type: 'string' }], partitionKeys: [{ name: 'region', type: 'string' }, { name: 'timestamp', type: 'string' }], parameters: { 'projection.timestamp.format': 'yyyy-MM-dd' } } },
    });
    const table = await runner.describeTable();
    expect(table.columns).toEqual(['eventid', 'region', 'timestamp']);
    expect(table.partitioning).toEqual({ date: { kind: 'single', column: 'timestamp', format: 'yyyy-MM-dd' }, region: 'region', others: [] });
  });
});

describe('the cost of a query', () => {
  it('is $5 per TB scanned, rounded up to the MB, with a 10 MB minimum', () => {
    expect(queryCost(0)).toBeCloseTo((10 * 2 ** 20 / 2 ** 40) * 5, 15);
    expect(queryCost(1)).toBe(queryCost(10 * 2 ** 20));
    expect(queryCost(10 * 2 ** 20 + 1)).toBeCloseTo((11 * 2 ** 20 / 2 ** 40) * 5, 15);
    expect(queryCost(2 ** 40)).toBe(5);
  });

  it('is printed on one line with the data scanned', () => {
    expect(statsLine('iam_user_created', { queryExecutionId: 'q-1', state: 'SUCCEEDED', dataScannedBytes: 3 * 2 ** 30, engineMillis: 2500, costUsd: queryCost(3 * 2 ** 30) })).toBe(
      'athena: iam_user_created: succeeded, scanned 3.00 GB, about $0.0146 (query q-1, 2.5 s)',
    );
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1.50 GB');
  });
});
