import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import type { Finding } from '../../src/detect/finding.js';
import { AthenaRunner, ScanLimitError, type QueryStats } from '../../src/engines/athena-client.js';
import { runAthenaDetections, runAthenaDetectionsPulling } from '../../src/engines/athena-detect.js';
import { Store } from '../../src/store/store.js';
import { isEventName, makeCall, makeRecord } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { demoScenario } from '../../synth/scenario.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { useFakeAwsEnv } from '../fakes/http.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';
import { AthenaEmulator, type EmulatedLayout } from './emulator.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
// The detections both engines run (those that read the local enrichment tables run on DuckDB only).
const catalog = loadCatalog(QUERIES).filter((d) => d.engines.includes('athena'));
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

/** Every event of every test case in the catalog, plus the demo scenario: the same evidence for both engines. */
function evidence(): unknown[] {
  const rng = new Random('athena-vs-duckdb');
  const cases = catalog.flatMap((d) =>
    d.tests.flatMap((t) =>
      t.events.flatMap((e) =>
        Array.from({ length: e.repeat ?? 1 }, () => {
          const overrides = (e.with ?? {}) as Record<string, unknown>;
          return isEventName(e.event) ? makeRecord(e.event, overrides as never, rng) : makeCall(e.event, overrides['eventSource'] as string, overrides as never, rng);
        }),
      ),
    ),
  );
  return [...cases, ...demoScenario()];
}

const ordered = (findings: readonly Finding[]) => findings.map((f) => JSON.stringify(f)).sort();

describe('detect on Athena gives the findings detect gives on DuckDB', () => {
  const records = evidence();
  let duckdb: Finding[];
  beforeAll(async () => {
    useFakeAwsEnv();
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('all.jsonl', jsonLines(records as never))]);
      const result = await runDetections(store, catalog, { sensitive });
      expect(result.failures).toEqual([]);
      duckdb = [...result.findings];
    } finally {
      store.close();
      ws.dispose();
    }
  });

  const athena = async (layout: EmulatedLayout, window: { since?: Date; until?: Date }) => {
    const emulator = await AthenaEmulator.create(records, layout);
    const fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 50 }).start();
    const stats: Array<[string, QueryStats]> = [];
    const runner = new AthenaRunner(
      { database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, region: 'us-east-1', outputLocation: 's3://results-bucket/trailhound/', poll: { initialMs: 1, factor: 1, maxMs: 1 } },
      (label, s) => stats.push([label, s]),
    );
    try {
      const table = await runner.describeTable();
      const result = await runAthenaDetections(runner, table, catalog, { window, sensitive, catalog });
      return { result, fake, stats, table };
    } finally {
      runner.close();
      await fake.stop();
      emulator.close();
    }
  };

  it('over every test case of the catalog and the demo scenario, table partitioned by projection', async () => {
    const { result, fake, stats } = await athena('projection', {});
    expect(result.failures).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(result.findings.length).toBeGreaterThan(catalog.length);
    expect(ordered(result.findings)).toEqual(ordered(duckdb));
    // One query per detection, each reported with what it scanned.
    expect(fake.queries).toHaveLength(catalog.length);
    expect(stats.map(([label]) => label).sort()).toEqual(catalog.map((d) => d.id).sort());
    expect(result.dataScannedBytes).toBe(catalog.length * 12 * 1024 * 1024);
    expect(fake.queries.every((q) => q.outputLocation === 's3://results-bucket/trailhound/' && q.database === 'security' && q.catalog === 'AwsDataCatalog')).toBe(true);
  }, 120_000);

  it('pulling the candidates of the named detections once: the same findings, in far fewer scans', async () => {
    const emulator = await AthenaEmulator.create(records, 'projection');
    const fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 500 }).start();
    const runner = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, poll: { initialMs: 1, factor: 1, maxMs: 1 } });
    const ws = new Workspace();
    try {
      const table = await runner.describeTable();
      const window = { since: new Date('2020-01-01T00:00:00Z') };
      const all = await runAthenaDetectionsPulling(runner, table, catalog, { window, sensitive, catalog, cacheDir: ws.path('cache') });
      expect(all.failures).toEqual([]);
      expect(ordered(all.findings)).toEqual(ordered(duckdb));
      expect(all.candidates.common).toEqual([]);
      expect(all.candidates.local).toBeGreaterThan(90);
      // Two scans (counts, candidates) and one per detection that must see every event.
      expect(all.queries).toBe(2 + catalog.length - all.candidates.local);
      expect(all.queries).toBeLessThan(25);
      // Names too common to pull leave their detections on Athena; the findings do not change.
      const some = await runAthenaDetectionsPulling(runner, table, catalog, { window, sensitive, catalog, cacheDir: ws.path('cache2'), candidateLimit: 3 });
      expect(some.candidates.common.length).toBeGreaterThan(0);
      expect(some.candidates.local).toBeLessThan(all.candidates.local);
      expect(ordered(some.findings)).toEqual(ordered(duckdb));
    } finally {
      ws.dispose();
      runner.close();
      await fake.stop();
      emulator.close();
    }
  }, 120_000);

  it('within a window, on a table partitioned by region/year/month/day, with the partitions constrained', async () => {
    const since = new Date('2020-01-01T00:00:00Z');
    const until = new Date('2030-01-01T00:00:00Z');
    const { result, fake } = await athena('ymd', { since, until });
    expect(result.failures).toEqual([]);
    expect(ordered(result.findings)).toEqual(ordered(duckdb));
    for (const q of fake.queries) {
      expect(q.sql).toContain(`("year" > '2020' or ("year" = '2020' and ("month" > '01' or ("month" = '01' and "day" >= '01'))))`);
      expect(q.sql).toContain(`("year" < '2029' or ("year" = '2029' and ("month" < '12' or ("month" = '12' and "day" <= '31'))))`);
    }
  }, 120_000);
});

describe('the scan guard', () => {
  let emulator: AthenaEmulator;
  let fake: FakeAthena;
  beforeAll(async () => {
    useFakeAwsEnv();
    emulator = await AthenaEmulator.create(demoScenario(), 'projection');
    fake = await new FakeAthena({ answer: (q) => emulator.answer(q, 3 * 1024 ** 3), tables: { 'security.cloudtrail_logs': emulator.metadata() } }).start();
  });
  afterAll(async () => {
    await fake.stop();
    emulator.close();
  });
  const runner = (maxScanGb?: number) =>
    new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, poll: { initialMs: 1, factor: 1, maxMs: 1 }, ...(maxScanGb !== undefined ? { maxScanBytes: maxScanGb * 1024 ** 3 } : {}) });

  it('refuses, under --max-scan-gb, to run queries whose date partitions are not constrained', async () => {
    const r = runner(10);
    try {
      const before = fake.queries.length;
      const table = await r.describeTable();
      await expect(runAthenaDetections(r, table, catalog.slice(0, 3), { window: { regions: ['us-east-1'] }, sensitive })).rejects.toThrow(ScanLimitError);
      await expect(runAthenaDetections(r, table, catalog.slice(0, 3), { window: {}, sensitive })).rejects.toThrow(/no --since was given/);
      expect(fake.queries.length).toBe(before);
    } finally {
      r.close();
    }
  });

  it('warns, without a limit, that every partition will be scanned, and runs', async () => {
    const r = runner();
    const warnings: string[] = [];
    try {
      const table = await r.describeTable();
      const result = await runAthenaDetections(r, table, catalog.slice(0, 2), { window: {}, sensitive, catalog, onWarning: (w) => warnings.push(w) });
      expect(result.failures).toEqual([]);
      expect(warnings.join('\n')).toMatch(/every day of the table would be scanned/);
    } finally {
      r.close();
    }
  });

  it('stops a running query once it has scanned more than the limit, and stops the others', async () => {
    const r = runner(1);
    try {
      const table = await r.describeTable();
      const before = fake.queries.length;
      await expect(runAthenaDetections(r, table, catalog.slice(0, 6), { window: { since: new Date('2026-03-01T00:00:00Z') }, sensitive, concurrency: 2 })).rejects.toThrow(/stopped after scanning .* over --max-scan-gb 1/);
      const started = fake.queries.slice(before);
      expect(started.length).toBeGreaterThan(0);
      expect(started.length).toBeLessThan(6);
      expect(started.every((q) => q.stopped)).toBe(true);
      expect(fake.operations).toContain('StopQueryExecution');
    } finally {
      r.close();
    }
  });

  it('skips a detection marked DuckDB-only, with a warning that says why', async () => {
    const r = runner();
    const warnings: string[] = [];
    try {
      const table = await r.describeTable();
      const limited = { ...catalog[0]!, engines: ['duckdb'] as const, engineNote: 'uses a DuckDB-only list function' };
      const result = await runAthenaDetections(r, table, [limited, catalog[1]!], { window: { since: new Date('2026-03-01T00:00:00Z') }, sensitive, onWarning: (w) => warnings.push(w) });
      expect(result.skipped).toEqual([{ detection: limited.id, reason: 'runs on DuckDB only: uses a DuckDB-only list function' }]);
      expect(result.detections).toBe(1);
      expect(warnings[0]).toBe(`detection ${limited.id} skipped on Athena: runs on DuckDB only: uses a DuckDB-only list function`);
    } finally {
      r.close();
    }
  });
});
