import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/detect/catalog.js';
import { eventNamesOf } from '../../src/detect/runner.js';
import { DEMO_FACTS, demoScenario } from '../../synth/scenario.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { FAKE_AWS_ENV } from '../fakes/http.js';
import { BIN } from '../helpers/cli.js';
import { Workspace } from '../helpers/workspace.js';
import { AthenaEmulator } from './emulator.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');

/** Runs the built binary without blocking this process (the fake Athena answers from it). */
function run(args: readonly string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...FAKE_AWS_ENV, AWS_PROFILE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  onStart?.(child);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('trailhound detect --engine athena (the built binary against a fake Athena)', () => {
  let emulator: AthenaEmulator;
  let fake: FakeAthena;
  let slow: FakeAthena;
  beforeAll(async () => {
    emulator = await AthenaEmulator.create(demoScenario(), 'projection');
    const tables = { 'security.cloudtrail_logs': emulator.metadata() };
    fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables }).start();
    slow = await new FakeAthena({ answer: (q) => emulator.answer(q), tables, runningPolls: 100_000 }).start();
  });
  afterAll(async () => {
    await fake.stop();
    await slow.stop();
    emulator.close();
  });
  const athena = (endpoint: string) => ['--engine', 'athena', '--athena-database', 'security', '--athena-output', 's3://results/trailhound/', '--endpoint-url', endpoint, '--athena-region', 'eu-west-1'];

  it('prints the findings, and what each query scanned and cost', async () => {
    const r = await run(['detect', ...athena(fake.endpoint), '--only', 'iam_user_created', 'cloudtrail_logging_stopped', '--since', '2026-03-01', '--until', '2026-03-08', '--region', 'us-east-1', '--format', 'json']);
    expect(r.stderr).toMatch(/^athena: cloudtrail_logging_stopped: succeeded, scanned 12\.0 MB, about \$0\.0001 \(query [0-9a-f-]+, \d+\.\d s\)$/m);
    expect(r.stderr).toMatch(/^athena: iam_user_created: succeeded, scanned 12\.0 MB/m);
    expect(r.stderr).toMatch(/^athena: 2 queries, 0\.02 GB scanned in all, about \$0\.0001$/m);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { findings: Array<{ detection: string; resource: string }>; skipped: unknown[]; athena: { queries: number } };
    expect(out.findings.map((f) => f.detection).sort()).toEqual(['cloudtrail_logging_stopped', 'iam_user_created']);
    expect(out.athena.queries).toBe(2);
    const sql = fake.queries.at(-1)!.sql;
    expect(sql).toContain(`"timestamp" >= '2026/03/01'`);
    expect(sql).toContain(`"region" in ('us-east-1')`);
  });

  it('--pull-candidates runs the name-limited detections locally on one pull, and the rest on Athena', async () => {
    const before = fake.queries.length;
    const r = await run(['detect', ...athena(fake.endpoint), '--pull-candidates', '--since', '2026-03-01', '--until', '2026-03-08', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { detections: number; findings: Array<{ detection: string; resource: string }>; athena: { queries: number; candidates: { local: number; events: number } } };
    // Every built-in detection that runs on Athena runs, there or locally on the pulled candidates;
    // so does a DuckDB-only one limited to event names, on its pulled events.
    expect(out.detections).toBe(loadCatalog(QUERIES).filter((d) => d.engines.includes('athena') || eventNamesOf(d.sql).length > 0).length);
    expect(out.athena.candidates.local).toBeGreaterThan(90);
    expect(out.athena.queries).toBe(fake.queries.length - before);
    expect(out.athena.queries).toBeLessThan(25);
    expect(r.stderr).toMatch(/^athena: candidate counts: succeeded/m);
    expect(r.stderr).toMatch(/^athena: ingest --athena: succeeded/m);
    const by = (id: string) => out.findings.filter((f) => f.detection === id).map((f) => f.resource);
    expect(by('iam_user_created')).toContain(DEMO_FACTS.createdUser);
    expect(by('key_used_from_new_ip').length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses under --max-scan-gb a run without --since, before any query starts', async () => {
    const before = fake.queries.length;
    const r = await run(['detect', ...athena(fake.endpoint), '--only', 'iam_user_created', '--max-scan-gb', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('trailhound:'))).toEqual([
      'trailhound: refusing to query Athena under --max-scan-gb: no --since was given, so every day of the table would be scanned; pass --since (and --until), or use a table partitioned by date ("trailhound athena ddl" prints one)',
    ]);
    expect(fake.queries.length).toBe(before);
  });

  it('stops the running queries on Athena at Ctrl-C and exits 130', async () => {
    const r = await run(['detect', ...athena(slow.endpoint), '--only', 'iam_user_created', 'iam_role_created', '--since', '2026-03-01'], (child) => {
      const timer = setInterval(() => {
        if (slow.queries.length >= 2) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 20);
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('stopping the running Athena queries');
    expect(slow.queries).toHaveLength(2);
    expect(slow.queries.every((q) => q.stopped)).toBe(true);
  });

  it('analyze --engine athena follows a key over the table, printing each query\'s cost', async () => {
    const r = await run(['analyze', ...athena(fake.endpoint), '--key', DEMO_FACTS.leakedKeyId, '--since', '2026-03-01', '--until', '2026-03-08', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { derivedKeys: Array<{ accessKeyId: string }>; coverage: { sources: unknown[] }; eventCount: number };
    expect(out.derivedKeys.map((k) => k.accessKeyId)).toEqual(expect.arrayContaining([DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId]));
    expect(out.eventCount).toBeGreaterThan(10);
    expect(out.coverage.sources).toEqual([{ name: 'athena', count: demoScenario().length }]);
    expect(r.stderr).toMatch(/^athena: analyze events: succeeded, scanned/m);
    expect(r.stderr).toMatch(/^athena: \d+ queries, [\d.]+ GB scanned in all, about \$[\d.]+$/m);
  });

  it('ingest --athena pulls a key\'s lineage and the findings\' events; analyze, detect, timeline and remediate then run offline on the store', async () => {
    const ws = new Workspace();
    try {
      const db = ws.path('case.duckdb');
      const pulled = await run(['ingest', ...athena(fake.endpoint).slice(2), '--athena', '--key', DEMO_FACTS.leakedKeyId, '--lineage', '--since', '2026-03-01', '--until', '2026-03-08', '--db', db, '--format', 'json']);
      expect(pulled.stderr).toMatch(/^athena: ingest --athena: succeeded, scanned/m);
      expect(pulled.code).toBe(0);
      const summary = JSON.parse(pulled.stdout) as { eventsLoaded: number; source: string; athena: { queries: number } };
      expect(summary.source).toBe('athena');
      expect(summary.eventsLoaded).toBeGreaterThan(50);
      const offline = await run(['analyze', '--key', DEMO_FACTS.leakedKeyId, '--db', db, '--format', 'json']);
      expect(offline.code).toBe(0);
      expect((JSON.parse(offline.stdout) as { derivedKeys: Array<{ accessKeyId: string }> }).derivedKeys.map((k) => k.accessKeyId)).toEqual(expect.arrayContaining([DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId]));
      // detect, timeline and remediate, offline on exactly the pulled evidence.
      expect((await run(['detect', '--db', db, '--format', 'json'])).code).toBe(0);
      const timeline = await run(['timeline', '--db', db, '--key', DEMO_FACTS.leakedKeyId, '--format', 'md']);
      expect(timeline.code).toBe(0);
      expect(timeline.stdout).toContain(DEMO_FACTS.createdUser);
      const plan = await run(['remediate', '--db', db, '--key', DEMO_FACTS.leakedKeyId, '--format', 'json']);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain(DEMO_FACTS.createdKeyId);

      const detected = await run(['detect', ...athena(fake.endpoint), '--only', 'iam_user_created', 'iam_access_key_created', '--since', '2026-03-01', '--format', 'json']);
      const findings = ws.write('findings.json', detected.stdout);
      const ids = new Set((JSON.parse(detected.stdout) as { findings: Array<{ eventIds: string[] }> }).findings.flatMap((f) => f.eventIds));
      const db2 = ws.path('findings.duckdb');
      const byIds = await run(['ingest', ...athena(fake.endpoint).slice(2), '--athena', '--findings', findings, '--since', '2026-03-01', '--db', db2]);
      expect(byIds.code).toBe(0);
      expect(byIds.stdout).toMatch(new RegExp(`^Loaded ${ids.size} events from Athena into `));
      const held = await run(['query', 'select eventid from events order by 1', '--db', db2, '--format', 'json']);
      expect((JSON.parse(held.stdout) as Array<{ eventid: string }>).map((r) => r.eventid)).toEqual([...ids].sort());
    } finally {
      ws.dispose();
    }
  });

  it('says which option is missing', async () => {
    const r = await run(['detect', '--engine', 'athena']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('trailhound: --engine athena needs --athena-database (the Glue database of the CloudTrail table)');
    const ingestStray = await run(['ingest', '--lineage', '--key', DEMO_FACTS.leakedKeyId, '--db', 'nowhere.duckdb']);
    expect(ingestStray.code).toBe(2);
    expect(ingestStray.stderr.trim()).toBe('trailhound: --lineage applies to ingest --athena only');
    const stray = await run(['detect', '--max-scan-gb', '3', '--db', 'nowhere.duckdb']);
    expect(stray.code).toBe(2);
    expect(stray.stderr.trim()).toBe('trailhound: --max-scan-gb applies to --engine athena only');
  });
});

describe('trailhound athena ddl', () => {
  it('prints a CREATE TABLE with partition projection on account, region and day', async () => {
    const r = await run(['athena', 'ddl', '--bucket', 's3://acme-trail/logs/', '--account', '111122223333,444455556666', '--region', 'us-east-1', 'eu-west-1', '--start', '2025-06-01', '--database', 'security']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS security\.cloudtrail_logs \(/);
    expect(r.stdout).toContain(`LOCATION 's3://acme-trail/logs/AWSLogs/'`);
    expect(r.stdout).toContain(`'projection.account.values' = '111122223333,444455556666'`);
    expect(r.stdout).toContain(`'projection.region.values' = 'us-east-1,eu-west-1'`);
    expect(r.stdout).toContain(`'projection.timestamp.range' = '2025/06/01,NOW'`);
    expect(r.stdout).toContain(`'storage.location.template' = 's3://acme-trail/logs/AWSLogs/\${account}/CloudTrail/\${region}/\${timestamp}'`);
    // Every column the events relation needs is declared.
    for (const column of ['useridentity STRUCT<', 'requestparameters STRING', 'readonly STRING', 'sharedeventid STRING', 'recipientaccountid STRING']) expect(r.stdout).toContain(column);
  });

  it('refuses a bucket that is not an s3:// address, and a value that would break the statement', async () => {
    const bad = await run(['athena', 'ddl', '--bucket', "s3://acme'; drop", '--account', '111122223333']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`trailhound: --bucket s3://acme'; drop is not an s3://bucket[/prefix] address`);
    const none = await run(['athena', 'ddl', '--bucket', 's3://acme-trail']);
    expect(none.stderr.trim()).toBe('trailhound: athena ddl needs --account: the accounts whose logs the trail delivers');
  });
});
