import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrailLayout } from '../../synth/layout.js';
import { cliStart, exited } from '../helpers/cli.js';
import { Workspace } from '../helpers/workspace.js';
import { FakeCloudTrail, FakeEc2 } from '../fakes/fake-cloudtrail.js';
import { FakeS3 } from '../fakes/fake-s3.js';
import { FAKE_AWS_ENV, FakeServer, serviceOf } from '../fakes/http.js';
import { spreadRecords } from '../fakes/data.js';

// The binary talks to fakes served by this process, so it must run without blocking the event loop.
async function run(args: readonly string[], env: NodeJS.ProcessEnv) {
  const child = cliStart(args, env);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = await exited(child);
  return { ...result, stderr };
}

describe('trailhound ingest (AWS sources) and verify, end to end', () => {
  const ws = new Workspace();
  const s3 = new FakeS3();
  const cloudtrail = new FakeCloudTrail();
  const ec2 = new FakeEc2(['eu-west-1', 'us-east-1']);
  const server = new FakeServer((req, res) => {
    const service = serviceOf(req);
    if (service === 'cloudtrail') return cloudtrail.handle(req, res);
    if (service === 'ec2') return ec2.handle(req, res);
    return s3.handle(req, res);
  });
  const records = spreadRecords({ regions: ['eu-west-1', 'us-east-1'], days: 2, perRegionDay: 30, seed: 9 });
  // Event History only goes back 90 days from now: these are from the last few days.
  const recent = spreadRecords({ regions: ['eu-west-1', 'us-east-1'], days: 2, perRegionDay: 30, seed: 10, firstDay: new Date(Math.floor(Date.now() / 86_400_000 - 3) * 86_400_000).toISOString() });
  let endpoint = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    for (const o of buildTrailLayout(records, { bucket: 'trail-bucket' })) s3.put('trail-bucket', o.key, o.body);
    for (const region of ['eu-west-1', 'us-east-1']) cloudtrail.add(region, recent.filter((r) => r.awsRegion === region));
    endpoint = await server.start();
    env = { ...FAKE_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: ws.path('no-credentials'), AWS_CONFIG_FILE: ws.path('no-config'), AWS_PROFILE: '' };
  });
  afterAll(async () => {
    await server.stop();
    ws.dispose();
  });

  it('ingests s3:// and verifies it', async () => {
    const db = ws.path('s3.duckdb');
    const ingest = await run(['ingest', 's3://trail-bucket', '--endpoint-url', endpoint, '--db', db, '--format', 'json', '--concurrency', '4'], env);
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    const summary = JSON.parse(ingest.stdout) as { eventsLoaded: number; source: string; remote: { fetched: number } };
    expect(summary.eventsLoaded).toBe(records.length);
    expect(summary.source).toBe('s3');

    const verify = await run(['verify', '--db', db], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Evidence intact/);
    expect(verify.stdout).toMatch(/verified \d+, modified 0, missing 0/);
  }, 60_000);

  it('ingests Event History for the regions given', async () => {
    const db = ws.path('eh.duckdb');
    const result = await run(['ingest', '--event-history', '--since', '7d', '--regions', 'eu-west-1,us-east-1', '--endpoint-url', endpoint, '--db', db], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Loaded ${recent.length} events`);
    expect(result.stdout).toContain('event-history: fetched 4 pages');
  }, 60_000);

  it('fails with one line for an unknown bucket, missing credentials and mixed sources', async () => {
    const missing = await run(['ingest', 's3://no-such-bucket', '--endpoint-url', endpoint, '--db', ws.path('x.duckdb')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^trailhound: no bucket no-such-bucket/)]);

    const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...noKeys } = env;
    const noCredentials = await run(['ingest', 's3://trail-bucket', '--endpoint-url', endpoint, '--db', ws.path('y.duckdb')], { ...noKeys, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.stderr).toMatch(/^trailhound: no AWS credentials found; set AWS_PROFILE or pass --profile/);

    const mixed = await run(['ingest', 's3://trail-bucket', '--event-history', '--db', ws.path('z.duckdb')], env);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('one kind of source per run');
    for (const r of [missing, noCredentials, mixed]) expect(r.stderr + r.stdout).not.toContain(FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY);
  }, 60_000);
});

describe('trailhound ingest s3:// interrupted with Ctrl-C', () => {
  const ws = new Workspace();
  const s3 = new FakeS3();
  const records = spreadRecords({ regions: ['eu-west-1'], days: 1, perRegionDay: 120, seed: 12 });
  const objects = buildTrailLayout(records, { bucket: 'slow-trail' });
  let endpoint = '';
  beforeAll(async () => {
    for (const o of objects) s3.put('slow-trail', o.key, o.body);
    // Slow object downloads, so that the interrupt lands in the middle of them.
    s3.faults.push((req, res, fake) => {
      if (req.query.get('list-type') === '2') return false;
      const body = fake.buckets.get('slow-trail')?.get(req.path.split('/').slice(2).join('/'))?.body;
      if (!body) return false;
      setTimeout(() => {
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      }, 150);
      return true;
    });
    endpoint = await s3.server.start();
  });
  afterAll(async () => {
    await s3.server.stop();
    ws.dispose();
  });

  it('stops with exit code 130 and the next run loads everything exactly once', async () => {
    const db = ws.path('int.duckdb');
    const env = { ...FAKE_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: ws.path('none'), AWS_CONFIG_FILE: ws.path('none') };
    const args = ['ingest', 's3://slow-trail', '--endpoint-url', endpoint, '--db', db, '--concurrency', '2', '--format', 'json'];
    const child = cliStart(args, env);
    const done = exited(child);
    // Interrupt once a few objects have been fetched.
    while (s3.gets().length < 6) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const first = await done;
    expect(first.code).toBe(130);
    expect(JSON.parse(first.stdout).status).toBe('interrupted');
    const second = await run(args, env);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout) as { remote: { fetched: number; reused: number }; alreadyIngested: number };
    expect(summary.remote.fetched).toBeLessThan(objects.length);
    const count = await run(['query', 'select count(*) as n, count(distinct eventid) as d from events', '--db', db, '--format', 'json'], env);
    expect(JSON.parse(count.stdout)).toEqual([{ n: records.length, d: records.length }]);
  }, 60_000);
});
