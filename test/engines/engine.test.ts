import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import type { LineageNode } from '../../src/analyze/types.js';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { AthenaEngine } from '../../src/engines/athena-engine.js';
import { DuckDbEngine } from '../../src/engines/duckdb-engine.js';
import type { Engine } from '../../src/engines/engine.js';
import { Store } from '../../src/store/store.js';
import { DEMO_FACTS, demoScenario } from '../../synth/scenario.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { useFakeAwsEnv } from '../fakes/http.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';
import { AthenaEmulator } from './emulator.js';

/** The same command body on both engines, through the Engine interface only. */
describe('the Engine interface', () => {
  const records = demoScenario();
  const scope = { since: new Date('2026-03-01T00:00:00Z'), until: new Date('2026-03-08T00:00:00Z') };
  const catalog = loadCatalog('queries');
  const sensitive = loadSensitiveEvents('queries/sensitive-events.yml');
  // Detections of several kinds (name-limited, behavioural, over the sensitive-calls table) that fire on the demo.
  const detections = catalog.filter((d) => ['iam_user_created', 'iam_access_key_created', 'cloudtrail_logging_stopped', 'key_used_from_new_ip', 'sensitive_api_called', 'region_first_used'].includes(d.id));
  let ws: Workspace;
  let emulator: AthenaEmulator;
  let fake: FakeAthena;
  const queryLines: string[] = [];
  let engines: Engine[];

  beforeAll(async () => {
    useFakeAwsEnv();
    ws = new Workspace();
    const store = await Store.open(':memory:');
    await ingest(store, [ws.write('demo.jsonl', jsonLines(records))]);
    emulator = await AthenaEmulator.create(records, 'ymd');
    fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 100 }).start();
    const athena = await AthenaEngine.open({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, poll: { initialMs: 1, factor: 1, maxMs: 1 } }, { onQuery: (line) => queryLines.push(line) });
    engines = [new DuckDbEngine(store), athena];
  });
  afterAll(async () => {
    for (const engine of engines) engine.close();
    await fake.stop();
    emulator.close();
    ws.dispose();
  });

  /** What `detect` does with an engine, written once. */
  async function detectOn(engine: Engine) {
    const result = await engine.detect({ detections, sensitive, catalog, scope });
    expect(result.matches).toBeGreaterThanOrEqual(result.alerts.count);
    return (await result.alerts.all()).map((a) => `${a.detection} ${a.severity} ${[...a.eventIds].sort().join(',')}`).sort();
  }

  it('detect gives the same findings on the store and on Athena, and only Athena reports a cost', async () => {
    const [local, remote] = [await detectOn(engines[0]!), await detectOn(engines[1]!)];
    expect(detections.length).toBe(6);
    expect(new Set(local.map((l) => l.split(' ')[0])).size).toBeGreaterThanOrEqual(4);
    expect(remote).toEqual(local);
    expect(engines[0]!.totals()).toBeUndefined();
    expect(engines[1]!.totals()).toMatch(/^athena: \d+ queries, [\d.]+ GB scanned in all, about \$/);
    expect(queryLines.length).toBeGreaterThan(0);
  });

  it('analyze reads the same lineage from either engine\'s evidence', async () => {
    const spec = { keys: [DEMO_FACTS.leakedKeyId], ips: [], principals: [], sessions: [], ...scope };
    const [a, b] = [await analyze(engines[0]!.evidence(scope), spec), await analyze(engines[1]!.evidence(scope), spec)];
    const keys = (nodes: readonly LineageNode[]): string[] => nodes.flatMap((n) => [n.id, ...keys(n.children)]);
    expect(keys(b.lineage)).toEqual(keys(a.lineage));
    expect(keys(a.lineage)).toContain(`session:${DEMO_FACTS.mintedKeyId}`);
    expect(b.events.length).toBe(a.events.length);
  });

  it('each engine refuses what it cannot do, naming the option', async () => {
    await expect(engines[0]!.detect({ detections, sensitive, catalog, scope: { regions: ['us-east-1'] } })).rejects.toThrow(/--region and --account narrow an Athena run/);
    await expect(engines[1]!.detect({ detections, sensitive, catalog, scope, indicators: [{ kind: 'ip', value: '203.0.113.7', source: 'x', line: 1 } as never] })).rejects.toThrow(/--ioc applies to the local store only/);
  });
});
