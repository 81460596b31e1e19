import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsCredentialsError } from '../../src/sources/aws.js';
import { ingestEventHistory, lookupAttributes, type EventHistoryOptions } from '../../src/sources/event-history-source.js';
import type { Store } from '../../src/store/store.js';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { FakeCloudTrail, FakeEc2 } from '../fakes/fake-cloudtrail.js';
import { FakeServer, sendJsonError, serviceOf, useFakeAwsEnv, type SeenRequest } from '../fakes/http.js';
import { spreadRecords } from '../fakes/data.js';
import { count, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const NOW = new Date('2026-03-10T00:00:00Z');
const ACTIVE = ['eu-west-1', 'sa-east-1', 'us-east-1'];
// 160 events per region: pages of 50, 50, 50 and 10.
const RECORDS = spreadRecords({ regions: ACTIVE, days: 2, perRegionDay: 80, seed: 11 });
const PAGES_PER_REGION = 4;

/** The largest number of requests inside any 1-second window. */
function maxPerSecond(requests: readonly SeenRequest[]): number {
  let most = 0;
  for (const r of requests) most = Math.max(most, requests.filter((o) => o.at >= r.at && o.at - r.at < 1000).length);
  return most;
}

describe('ingest --event-history', () => {
  let ws: Workspace;
  let store: Store;
  let cloudtrail: FakeCloudTrail;
  let ec2: FakeEc2;
  let server: FakeServer;
  let endpoint: string;
  sandbox((w, s) => ((ws = w), (store = s)));
  beforeAll(() => useFakeAwsEnv());
  beforeEach(async () => {
    cloudtrail = new FakeCloudTrail();
    for (const region of ACTIVE) cloudtrail.add(region, RECORDS.filter((r) => r.awsRegion === region));
    // ap-south-2 is enabled but has no activity.
    ec2 = new FakeEc2([...ACTIVE, 'ap-south-2']);
    server = new FakeServer((req, res) => (serviceOf(req) === 'ec2' ? ec2.handle(req, res) : cloudtrail.handle(req, res)));
    endpoint = await server.start();
  });
  afterEach(async () => server.stop());

  const run = (extra: Partial<EventHistoryOptions> = {}) =>
    ingestEventHistory({ store, endpointUrl: endpoint, cacheDir: ws.path('cache'), now: NOW, scope: { since: new Date('2026-03-01T00:00:00Z') }, backoffMs: 20, ...extra });

  it('reads every enabled region in parallel, each at most 2 requests per second, and loads each event once', async () => {
    const started = performance.now();
    const fractions: number[] = [];
    const summary = await run({ onProgress: (p) => fractions.push(p.fraction ?? -1) });
    // The share of the window read only grows, and ends whole.
    expect(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]!))).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    const seconds = (performance.now() - started) / 1000;
    expect(summary.eventsLoaded).toBe(RECORDS.length);
    expect(await count(store)).toBe(RECORDS.length);
    expect(summary.skipped).toEqual([]);
    // The fake counts the rate as AWS does, by arrival: on a loaded machine one request can
    // arrive late enough to crowd the next second (the client's own spacing is tested with the
    // Pacer in aws.test.ts). Such a request is throttled and retried, as AWS would have it:
    // each page is still answered once, and throttling stays the exception.
    for (const region of [...ACTIVE, 'ap-south-2']) {
      const throttled = cloudtrail.overLimit.get(region) ?? 0;
      const lookups = cloudtrail.lookups(region);
      expect(lookups.length - throttled).toBe(region === 'ap-south-2' ? 1 : PAGES_PER_REGION);
      expect(throttled).toBeLessThanOrEqual(1);
    }
    // Sequentially, 13 requests at 1.9/s would take 6.3 s; in parallel the slowest region sets the pace (4 requests).
    expect(seconds).toBeLessThan(4.5);
    const inputs = await store.all<{ source: string; region: string; uri: string }>(`select source, region, uri from inputs order by uri`);
    expect(inputs.length).toBe(ACTIVE.length * PAGES_PER_REGION);
    expect(inputs.every((i) => i.source === 'event-history' && i.uri.startsWith(`event-history://${i.region}/`))).toBe(true);
    const checkpoints = await store.all<{ region: string; pages: number; done: boolean }>(`select region, pages, done from pull_checkpoints order by region`);
    expect(checkpoints).toEqual([
      { region: 'ap-south-2', pages: 1, done: true },
      ...ACTIVE.map((region) => ({ region, pages: PAGES_PER_REGION, done: true })),
    ]);

    // The same window again: nothing is requested, nothing added.
    const before = cloudtrail.lookups().length;
    const again = await run();
    expect(cloudtrail.lookups().length).toBe(before);
    expect(again.eventsLoaded).toBe(0);
    expect(await count(store)).toBe(RECORDS.length);
  }, 30_000);

  it('backs off on throttling bursts and 500s, records a denied region, and loads the rest', async () => {
    let throttled = 0;
    let failed = false;
    cloudtrail.faults.push((req, res, region) => {
      if (region === 'eu-west-1' && cloudtrail.lookups('eu-west-1').length >= 2 && throttled < 3) {
        throttled++;
        sendJsonError(res, 400, 'ThrottlingException', 'Rate exceeded');
        return true;
      }
      if (region === 'us-east-1' && !failed) {
        failed = true;
        sendJsonError(res, 500, 'InternalServerErrorException', 'internal error');
        return true;
      }
      if (region === 'sa-east-1') {
        sendJsonError(res, 400, 'AccessDeniedException', 'User is not authorized to perform: cloudtrail:LookupEvents');
        return true;
      }
      return false;
    });
    const summary = await run({ regions: ACTIVE });
    const sa = RECORDS.filter((r) => r.awsRegion === 'sa-east-1').length;
    expect(summary.eventsLoaded).toBe(RECORDS.length - sa);
    expect(throttled).toBe(3);
    expect(summary.remote.retries).toBe(4);
    expect(summary.status).toBe('completed-with-skips');
    expect(summary.skipped).toEqual([{ path: 'event-history://sa-east-1', reason: expect.stringContaining('cloudtrail:LookupEvents in sa-east-1') }]);
    const row = await store.one(`select status, region, source from inputs where uri = 'event-history://sa-east-1'`);
    expect(row).toEqual({ status: 'failed', region: 'sa-east-1', source: 'event-history' });
    for (const region of ACTIVE) expect(maxPerSecond(cloudtrail.lookups(region))).toBeLessThanOrEqual(2);
  }, 30_000);

  it('resumes an interrupted pull from each region’s NextToken', async () => {
    const controller = new AbortController();
    const first = await run({ regions: ACTIVE, signal: controller.signal, onProgress: (p) => p.done >= 4 && controller.abort() });
    expect(first.status).toBe('interrupted');
    const saved = await store.one<{ pages: number }>(`select sum(pages)::bigint as pages from pull_checkpoints`);
    expect(saved!.pages).toBeGreaterThanOrEqual(4);
    const second = await run({ regions: ACTIVE });
    // Pages already saved are not asked for again: the second run fetches exactly the rest.
    expect(second.remote.fetched).toBe(ACTIVE.length * PAGES_PER_REGION - saved!.pages);
    expect(second.status).toBe('completed');
    expect(await count(store)).toBe(RECORDS.length);
    expect(await count(store, `select count(*) - count(distinct eventid) as n from events`)).toBe(0);
  }, 30_000);

  it('stops every region on an expired token and finishes on the next run', async () => {
    cloudtrail.faults.push((req, res, region) => {
      if (region !== 'us-east-1' || cloudtrail.lookups('us-east-1').length < 2) return false;
      sendJsonError(res, 400, 'ExpiredTokenException', 'The security token included in the request is expired');
      return true;
    });
    const first = await run({ regions: ACTIVE });
    expect(first.skipped.some((s) => s.path === 'event-history://us-east-1' && /expired/.test(s.reason))).toBe(true);
    expect(await count(store)).toBeLessThan(RECORDS.length);
    cloudtrail.faults.length = 0;
    await run({ regions: ACTIVE });
    expect(await count(store)).toBe(RECORDS.length);
  }, 30_000);

  it('pushes --key/--user/--event-name down, one lookup attribute per call', async () => {
    const key = RECORDS.find((r) => r.awsRegion === 'eu-west-1')!.userIdentity!.accessKeyId!;
    const other = RECORDS.find((r) => r.userIdentity?.accessKeyId && r.userIdentity.accessKeyId !== key)!.userIdentity!.accessKeyId!;
    expect(lookupAttributes({ keys: [key, other], eventNames: ['RunInstances'] })).toEqual([
      { AttributeKey: 'AccessKeyId', AttributeValue: key },
      { AttributeKey: 'AccessKeyId', AttributeValue: other },
      { AttributeKey: 'EventName', AttributeValue: 'RunInstances' },
    ]);
    const summary = await run({ regions: ['eu-west-1'], filters: { keys: [key, other] } });
    const expected = RECORDS.filter((r: CloudTrailRecord) => r.awsRegion === 'eu-west-1' && [key, other].includes(r.userIdentity?.accessKeyId ?? ''));
    expect(summary.eventsLoaded).toBe(expected.length);
    for (const req of cloudtrail.lookups()) expect((JSON.parse(req.body) as { LookupAttributes: unknown[] }).LookupAttributes).toHaveLength(1);
  }, 30_000);

  it('records the part of a window older than 90 days, and a denied DescribeRegions falls back to the default regions', async () => {
    ec2.denied = true;
    const summary = await run({ scope: { since: new Date('2025-10-01T00:00:00Z'), regions: ['eu-west-1', 'us-east-1'] } });
    expect(summary.skipped.map((s) => s.path)).toEqual(['ec2://DescribeRegions', 'event-history://*']);
    expect(summary.skipped[0]!.reason).toContain('ec2:DescribeRegions');
    expect(summary.skipped[1]!.reason).toMatch(/90 days/);
    expect(summary.eventsLoaded).toBe(RECORDS.filter((r) => r.awsRegion !== 'sa-east-1').length);
  }, 30_000);

  it('refuses to start without credentials', async () => {
    const saved = { ...process.env };
    try {
      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = ws.path('none');
      process.env['AWS_CONFIG_FILE'] = ws.path('none');
      await expect(run()).rejects.toThrow(AwsCredentialsError);
    } finally {
      process.env = saved;
    }
  }, 30_000);
});
