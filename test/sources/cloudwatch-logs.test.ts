import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsResourceNotFoundError } from '../../src/sources/aws.js';
import { filterPattern, ingestCloudWatchLogs, type CloudWatchLogsOptions } from '../../src/sources/cloudwatch-logs-source.js';
import type { Store } from '../../src/store/store.js';
import { FakeLogs } from '../fakes/fake-logs.js';
import { sendJsonError, useFakeAwsEnv } from '../fakes/http.js';
import { spreadRecords } from '../fakes/data.js';
import { count, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const GROUP = 'aws-cloudtrail-logs-111122223333';
const RECORDS = spreadRecords({ regions: ['eu-west-1', 'us-east-1'], days: 2, perRegionDay: 120, seed: 3 });

describe('ingest --log-group', () => {
  let ws: Workspace;
  let store: Store;
  let logs: FakeLogs;
  let endpoint: string;
  sandbox((w, s) => ((ws = w), (store = s)));
  beforeAll(() => useFakeAwsEnv());
  beforeEach(async () => {
    logs = new FakeLogs();
    logs.groups.set(GROUP, RECORDS);
    endpoint = await logs.server.start();
  });
  afterEach(async () => logs.server.stop());

  const run = (extra: Partial<CloudWatchLogsOptions> = {}) =>
    ingestCloudWatchLogs({ store, logGroups: [GROUP], endpointUrl: endpoint, cacheDir: ws.path('cache'), now: new Date('2026-03-10T00:00:00Z'), backoffMs: 5, requestsPerSecond: 50, ...extra });

  it('writes filter patterns that cannot be broken out of', () => {
    expect(filterPattern({})).toBeUndefined();
    expect(filterPattern({ keys: ['AKIAQ3EGRV7XCIDEPLOY'], ips: ['203.0.113.77', '2001:db8::1'] })).toBe(
      '{ ($.userIdentity.accessKeyId = "AKIAQ3EGRV7XCIDEPLOY") && (($.sourceIPAddress = "203.0.113.77") || ($.sourceIPAddress = "2001:db8::1")) }',
    );
    expect(() => filterPattern({ eventNames: ['Run" || $.x = "y'] })).toThrow(/not an event name/);
    expect(() => filterPattern({ ips: ['10.0.0.0/8'] })).toThrow(/CIDR/);
  });

  it('pages through the window, empty pages included, and loads each event once', async () => {
    logs.emptyPageEvery = 3;
    const summary = await run();
    expect(summary.eventsLoaded).toBe(RECORDS.length);
    expect(await count(store)).toBe(RECORDS.length);
    // 480 events in pages of 100 = 5 pages, plus an empty page after every two full ones.
    expect(logs.seen.length).toBe(7);
    const inputs = await store.all<{ source: string; uri: string }>(`select source, uri from inputs`);
    expect(inputs.every((i) => i.source === 'cloudwatch-logs' && i.uri.startsWith(`cloudwatch-logs://us-east-1/${GROUP}/`))).toBe(true);
    const again = await run();
    expect(again.eventsLoaded).toBe(0);
    expect(logs.seen.length).toBe(7);
  });

  it('pushes --key, --ip and --event-name down as a filter pattern', async () => {
    const key = RECORDS[0]!.userIdentity!.accessKeyId!;
    const summary = await run({ filters: { keys: [key], eventNames: ['DescribeInstances'] } });
    const expected = RECORDS.filter((r) => r.userIdentity?.accessKeyId === key && r.eventName === 'DescribeInstances');
    expect(expected.length).toBeGreaterThan(0);
    expect(summary.eventsLoaded).toBe(expected.length);
    expect(logs.patterns()[0]).toBe(`{ ($.userIdentity.accessKeyId = "${key}") && ($.eventName = "DescribeInstances") }`);
  });

  it('retries throttling, resumes after an abort, and records a page that exhausted its retries', async () => {
    let throttles = 0;
    logs.faults.push((_req, res) => {
      if (logs.seen.length === 2 && throttles < 2) {
        throttles++;
        logs.seen.pop();
        sendJsonError(res, 400, 'ThrottlingException', 'Rate exceeded');
        return true;
      }
      return false;
    });
    const controller = new AbortController();
    const first = await run({ signal: controller.signal, onProgress: (p) => p.done >= 2 && controller.abort() });
    expect(first.status).toBe('interrupted');
    expect(first.remote.retries).toBe(2);
    const second = await run();
    expect(second.remote.fetched).toBe(3);
    expect(await count(store)).toBe(RECORDS.length);

    // A new window whose pages keep being throttled: the failure is recorded, the run goes on.
    logs.faults.length = 0;
    logs.faults.push((_req, res) => {
      sendJsonError(res, 400, 'ThrottlingException', 'Rate exceeded');
      return true;
    });
    const third = await run({ scope: { since: new Date('2026-03-02T00:00:00Z') }, maxAttempts: 3 });
    expect(third.skipped).toEqual([{ path: `cloudwatch-logs://us-east-1/${GROUP}`, reason: expect.stringContaining('throttled') }]);
    expect(await count(store, `select count(*) as n from inputs where status = 'failed'`)).toBe(1);
  });

  it('names an unknown log group', async () => {
    await expect(run({ logGroups: ['no-such-group'] })).rejects.toThrow(AwsResourceNotFoundError);
    await expect(run({ logGroups: ['no-such-group'] })).rejects.toThrow(/no log group no-such-group in us-east-1/);
  });
});
