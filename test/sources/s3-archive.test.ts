import { existsSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsCredentialsError, AwsResourceNotFoundError } from '../../src/sources/aws.js';
import { ingestS3Archive, parseS3Uri, type S3IngestOptions } from '../../src/sources/s3-archive-source.js';
import { safeRelative } from '../../src/sources/evidence-cache.js';
import { buildTrailLayout, type TrailObject } from '../../synth/layout.js';
import type { Store } from '../../src/store/store.js';
import { FAKE_AWS_ENV, useFakeAwsEnv } from '../fakes/http.js';
import { FakeS3, s3Error } from '../fakes/fake-s3.js';
import { spreadRecords } from '../fakes/data.js';
import { count, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const BUCKET = 'trail-bucket';
const REGIONS = ['ap-southeast-1', 'eu-west-1', 'us-east-1'];
const RECORDS = spreadRecords({ regions: REGIONS, days: 3, perRegionDay: 24 });
const OBJECTS: TrailObject[] = buildTrailLayout(RECORDS, { bucket: BUCKET });
const LOGS = OBJECTS.filter((o) => o.kind === 'log');
const DIGESTS = OBJECTS.filter((o) => o.kind === 'digest');

describe('ingest s3://', () => {
  let ws: Workspace;
  let store: Store;
  let s3: FakeS3;
  let endpoint: string;
  sandbox((w, s) => ((ws = w), (store = s)));
  beforeAll(() => useFakeAwsEnv());
  beforeEach(async () => {
    s3 = new FakeS3();
    for (const o of OBJECTS) s3.put(BUCKET, o.key, o.body);
    // Unrelated data in the same bucket that must never be listed.
    for (let i = 0; i < 20; i++) s3.put(BUCKET, `exports/2026/${i}.csv`, Buffer.from('a,b\n'));
    endpoint = await s3.server.start();
  });
  afterEach(async () => s3.server.stop());

  const run = (extra: Partial<S3IngestOptions> = {}) =>
    ingestS3Archive({ uri: `s3://${BUCKET}`, store, endpointUrl: endpoint, cacheDir: ws.path('cache'), backoffMs: 5, concurrency: 8, ...extra });

  it('parses s3:// locations and refuses others', () => {
    expect(parseS3Uri('s3://trail-bucket')).toEqual({ bucket: 'trail-bucket', prefix: '' });
    expect(parseS3Uri('s3://trail-bucket/org/AWSLogs/')).toEqual({ bucket: 'trail-bucket', prefix: 'org/AWSLogs/' });
    expect(() => parseS3Uri('https://example.com/x')).toThrow(/not an S3 location/);
  });

  it('loads every event exactly once and records every object with its s3:// uri', async () => {
    const summary = await run();
    expect(summary.eventsLoaded).toBe(RECORDS.length);
    expect(summary.digestFiles).toBe(DIGESTS.length);
    expect(summary.skipped).toEqual([]);
    expect(summary.remote.fetched).toBe(OBJECTS.length);
    expect(await count(store)).toBe(RECORDS.length);
    const rows = await store.all<{ uri: string; source: string }>(`select uri, source from inputs order by uri`);
    expect(rows.map((r) => r.uri)).toEqual(OBJECTS.map((o) => `s3://${BUCKET}/${o.key}`).sort());
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['s3']));
    const manifest = await store.one<{ n: number }>(`select count(*) as n from remote_objects where source = 's3'`);
    expect(manifest?.n).toBe(OBJECTS.length);
    // No listing ever touched the unrelated exports/ folder.
    expect(s3.listedPrefixes().every((p) => p.startsWith('AWSLogs/'))).toBe(true);

    // A second run fetches nothing and adds nothing.
    const getsBefore = s3.gets().length;
    const again = await run();
    expect(s3.gets().length).toBe(getsBefore);
    expect(again.eventsLoaded).toBe(0);
    expect(again.alreadyIngested).toBe(OBJECTS.length);
    expect(await count(store)).toBe(RECORDS.length);
  });

  it('keeps both versions of an object changed in the bucket between two runs', async () => {
    await run();
    const target = LOGS[4]!;
    const changed = gunzipText(target.body).replace(/"sourceIPAddress":"[^"]*"/, '"sourceIPAddress":"198.51.100.66"');
    s3.put(BUCKET, target.key, gzipSync(changed));
    const second = await run();
    expect(second.remote.fetched).toBe(1);
    const rows = await store.all<{ cache_path: string; sha256: string }>(`select cache_path, sha256 from remote_objects where uri = ? order by fetched_at`, [`s3://${BUCKET}/${target.key}`]);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.cache_path).not.toBe(rows[1]!.cache_path);
    for (const row of rows) expect(existsSync(row.cache_path)).toBe(true);
    // The changed record has the eventID of the original and other content: a conflict, both kept.
    expect(await count(store)).toBe(RECORDS.length + 1);
    expect(second.conflicts).toBe(1);
    expect(await count(store, `select count(*) as n from record_issues where kind = 'conflict'`)).toBe(2);
  });

  it('gives every key its own cache file: a planted look-alike never replaces a real log', async () => {
    const real = LOGS[2]!;
    const slash = real.key.lastIndexOf('/');
    // `~` and `_` were once both written as `_`: the planted object took the real log's cache file.
    const planted = `${real.key.slice(0, slash + 1)}${real.key.slice(slash + 1).replace('_CloudTrail_', '~CloudTrail_')}`;
    expect(planted).not.toBe(real.key);
    s3.put(BUCKET, planted, gzipSync(JSON.stringify({ Records: [] })));
    const summary = await run();
    const rows = await store.all<{ uri: string; cache_path: string }>(`select uri, cache_path from remote_objects where uri in (?, ?)`, [`s3://${BUCKET}/${real.key}`, `s3://${BUCKET}/${planted}`]);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.cache_path).not.toBe(rows[1]!.cache_path);
    const loaded = await store.one<{ n: number }>(`select count(*) as n from inputs where uri = ? and status = 'loaded'`, [`s3://${BUCKET}/${real.key}`]);
    expect(loaded?.n).toBe(1);
    expect(summary.eventsLoaded).toBe(RECORDS.length);
  });

  it('escapes cache paths one to one, and never out of the cache', () => {
    const names = ['a/b', 'a_b', 'a~b', 'a%7Eb', 'a//b', 'a/./b', 'a/../b', '/a/b', 'a/b/', '..', '.', '', 'é', 'a b', 'a%b', '%', '%2E'];
    const paths = names.map((n) => safeRelative(n));
    expect(new Set(paths).size).toBe(names.length);
    for (const p of paths) {
      expect(p.split('/').some((part) => part === '..' || part === '.' || part === '')).toBe(false);
      expect(p).not.toMatch(/%etag-/);
    }
    expect(safeRelative('AWSLogs/123456789012/CloudTrail/us-east-1/x.json.gz')).toBe('AWSLogs/123456789012/CloudTrail/us-east-1/x.json.gz');
    expect(safeRelative('a~b c')).toBe('a%7Eb%20c');
  });

  it('lists only the prefixes inside --account/--region/--since/--until', async () => {
    const since = new Date('2026-03-03T00:00:00Z');
    const until = new Date('2026-03-04T00:00:00Z');
    const summary = await run({ scope: { since, until, regions: ['eu-west-1', 'us-east-1'], accounts: ['111122223333'] }, now: new Date('2026-03-10T00:00:00Z') });
    const expected = ['AWSLogs/'];
    for (const kind of ['CloudTrail', 'CloudTrail-Digest']) {
      for (const region of ['eu-west-1', 'us-east-1']) {
        for (const day of ['03', '04', '05']) expected.push(`AWSLogs/111122223333/${kind}/${region}/2026/03/${day}/`);
      }
    }
    expect(s3.listedPrefixes().sort()).toEqual(expected.sort());
    const inWindow = RECORDS.filter((r) => r.awsRegion !== 'ap-southeast-1' && r.eventTime! >= '2026-03-03T00:00:00Z' && r.eventTime! < '2026-03-04T00:00:00Z');
    expect(summary.eventsLoaded).toBe(inWindow.length);
    expect(await count(store, `select count(*) as n from events where awsregion = 'ap-southeast-1'`)).toBe(0);
  });

  it('finds organization trails and a trail key prefix', async () => {
    const org = new FakeS3();
    const orgObjects = buildTrailLayout(RECORDS.slice(0, 30), { bucket: 'org-trail', orgId: 'o-abc123def4' });
    for (const o of orgObjects) org.put('org-trail', `cloudtrail/${o.key}`, o.body);
    const url = await org.server.start();
    try {
      const summary = await ingestS3Archive({ uri: 's3://org-trail/cloudtrail', store, endpointUrl: url, cacheDir: ws.path('cache-org'), backoffMs: 5 });
      expect(summary.eventsLoaded).toBe(30);
      expect(org.listedPrefixes()[0]).toBe('cloudtrail/AWSLogs/');
      expect(org.listedPrefixes()).toContain('cloudtrail/AWSLogs/o-abc123def4/');
      const accounts = await store.all(`select distinct account from inputs`);
      expect(accounts).toEqual([{ account: '111122223333' }]);
    } finally {
      await org.server.stop();
    }
  });

  it('survives 500s, a dropped connection, a denied region and a corrupt object; records each failure', async () => {
    const corrupt = LOGS.find((o) => o.key.includes('/eu-west-1/'))!;
    const gz = corrupt.body;
    s3.put(BUCKET, corrupt.key, gz.subarray(0, Math.floor(gz.length / 2)));
    const corruptEvents = RECORDS.filter((r) => corrupt.records > 0 && JSON.parse(gunzipText(gz)).Records.some((x: { eventID: string }) => x.eventID === r.eventID)).length;
    const failedOnce = new Set<string>();
    let dropped = false;
    s3.faults.push(
      (req, res) => {
        if (req.query.get('list-type') === '2' && (req.query.get('prefix') ?? '').includes('/ap-southeast-1/')) {
          s3Error(res, 403, 'AccessDenied', 'Access Denied');
          return true;
        }
        return false;
      },
      (req, res) => {
        // Every third object fails with a 500 the first time it is asked for.
        if (req.query.get('list-type') === '2' || failedOnce.has(req.path)) return false;
        const index = LOGS.findIndex((o) => req.path.endsWith(o.key));
        if (index < 0 || index % 3 !== 0) return false;
        failedOnce.add(req.path);
        s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
        return true;
      },
      (req, res, fake) => {
        // One object's connection drops halfway through its body, once.
        const target = LOGS.find((o) => o.key.includes('/us-east-1/'))!;
        if (dropped || !req.path.endsWith(target.key)) return false;
        dropped = true;
        const body = fake.buckets.get(BUCKET)!.get(target.key)!.body;
        res.writeHead(200, { 'content-length': body.length, etag: '"x"' });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        setTimeout(() => res.socket?.destroy(), 20);
        return true;
      },
    );
    const summary = await run();
    const apEvents = RECORDS.filter((r) => r.awsRegion === 'ap-southeast-1').length;
    expect(summary.eventsLoaded).toBe(RECORDS.length - apEvents - corruptEvents);
    expect(await count(store)).toBe(RECORDS.length - apEvents - corruptEvents);
    expect(summary.status).toBe('completed-with-skips');
    expect(dropped).toBe(true);
    expect(summary.remote.retries).toBeGreaterThan(0);
    const failed = await store.all<{ uri: string; status: string; reason: string; region: string }>(
      `select uri, status, reason, region from inputs where status in ('failed', 'skipped') order by uri`,
    );
    expect(failed).toEqual([
      expect.objectContaining({ uri: `s3://${BUCKET}/AWSLogs/111122223333/CloudTrail-Digest/ap-southeast-1/`, status: 'failed', region: 'ap-southeast-1', reason: expect.stringContaining('s3:ListBucket') }),
      expect.objectContaining({ uri: `s3://${BUCKET}/AWSLogs/111122223333/CloudTrail/ap-southeast-1/`, status: 'failed', region: 'ap-southeast-1', reason: expect.stringContaining('access denied') }),
      expect.objectContaining({ uri: `s3://${BUCKET}/${corrupt.key}`, status: 'skipped', reason: expect.stringMatching(/gzip|malformed JSON/) }),
    ]);
    expect(summary.skipped.map((s) => s.path)).toEqual(failed.map((f) => f.uri));
  });

  it('resumes an aborted download without fetching twice or losing an event', async () => {
    const controller = new AbortController();
    const first = await run({ signal: controller.signal, concurrency: 2, onProgress: (p) => p.phase === 'download' && p.done >= 10 && controller.abort() });
    expect(first.status).toBe('interrupted');
    const fetchedFirst = first.remote.fetched;
    expect(fetchedFirst).toBeGreaterThanOrEqual(10);
    expect(fetchedFirst).toBeLessThan(OBJECTS.length);
    const getsBefore = s3.gets().length;
    const second = await run();
    expect(s3.gets().length - getsBefore).toBe(OBJECTS.length - fetchedFirst);
    // Digests fetched before the abort were recorded then; log files are loaded from the cache now.
    expect(second.remote.reused + second.alreadyIngested).toBe(fetchedFirst);
    expect(await count(store)).toBe(RECORDS.length);
    expect(await count(store, `select count(*) - count(distinct eventid) as n from events`)).toBe(0);
  });

  it('stops on an expired token, keeps what it fetched, and finishes on the next run', async () => {
    let gets = 0;
    s3.faults.push((req, res) => {
      if (req.query.get('list-type') === '2') return false;
      if (++gets <= 6) return false;
      s3Error(res, 400, 'ExpiredToken', 'The provided token has expired.');
      return true;
    });
    const first = await run({ concurrency: 1 });
    expect(first.remote.fetched).toBe(6);
    expect(first.skipped.length).toBe(OBJECTS.length - 6);
    expect(first.skipped[0]!.reason).toMatch(/expired.*run the same command again/);
    const kept = await count(store, `select count(*) as n from inputs where status in ('loaded', 'digest')`);
    expect(kept).toBe(6);
    s3.faults.length = 0;
    const second = await run();
    expect(second.remote.fetched).toBe(OBJECTS.length - 6);
    expect(await count(store)).toBe(RECORDS.length);
  });

  it('names a missing bucket, missing credentials, and never prints secrets', async () => {
    await expect(ingestS3Archive({ uri: 's3://no-such-bucket', store, endpointUrl: endpoint, cacheDir: ws.path('c') })).rejects.toThrow(AwsResourceNotFoundError);

    s3.faults.push((req, res) => {
      if (!req.path.includes('/CloudTrail/us-east-1/')) return false;
      s3Error(res, 403, 'AccessDenied', `denied for Signature=${'ab'.repeat(32)} with ${FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY}`);
      return true;
    });
    const summary = await run();
    const text = JSON.stringify(summary) + JSON.stringify(await store.all(`select reason from inputs`));
    expect(text).toContain('access denied');
    expect(text).not.toContain(FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY);
    expect(text).not.toContain('ab'.repeat(32));

    const saved = { ...process.env };
    try {
      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = ws.path('none-credentials');
      process.env['AWS_CONFIG_FILE'] = ws.path('none-config');
      await expect(run()).rejects.toThrow(AwsCredentialsError);
    } finally {
      process.env = saved;
    }
  });
});

function gunzipText(gz: Buffer): string {
  return gunzipSync(gz).toString('utf8');
}
