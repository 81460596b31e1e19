import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import { AthenaRunner } from '../../src/engines/athena-client.js';
import { ingestFromAthena, recordFromRow } from '../../src/engines/athena-ingest.js';
import type { AthenaTable } from '../../src/engines/athena-table.js';
import { Store } from '../../src/store/store.js';
import { DEMO_FACTS, demoScenario } from '../../synth/scenario.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { useFakeAwsEnv } from '../fakes/http.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';
import { AthenaEmulator } from './emulator.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
const catalog = loadCatalog(QUERIES);
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

describe('ingest --athena', () => {
  const records = demoScenario();
  const window = { since: new Date('2026-03-01T00:00:00Z'), until: new Date('2026-03-08T00:00:00Z') };
  let ws: Workspace;
  let direct: Store;
  let emulator: AthenaEmulator;
  let fake: FakeAthena;
  let runner: AthenaRunner;
  let table: AthenaTable;
  const stores: Store[] = [];
  const fresh = async () => {
    const store = await Store.open(':memory:');
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    useFakeAwsEnv();
    ws = new Workspace();
    direct = await fresh();
    await ingest(direct, [ws.write('demo.jsonl', jsonLines(records))]);
    emulator = await AthenaEmulator.create(records, 'projection');
    fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 400 }).start();
    runner = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, workgroup: 'forensics', poll: { initialMs: 1, factor: 1, maxMs: 1 } });
    table = await runner.describeTable();
  });
  afterAll(async () => {
    runner.close();
    await fake.stop();
    emulator.close();
    for (const s of stores) s.close();
    ws.dispose();
  });

  it('pulls a window whose detections find what they find on the original files', async () => {
    const store = await fresh();
    const summary = await ingestFromAthena({ store, runner, table, window, pull: { kind: 'filter', filter: {} }, cacheDir: join(ws.root, 'cache-all') });
    expect(summary.eventsLoaded).toBe(records.length);
    expect(summary.athena.rows).toBe(records.length);
    expect(summary.athena.queries).toBe(1);
    const [a, b] = [await runDetections(direct, catalog, { sensitive }), await runDetections(store, catalog, { sensitive })];
    const strip = (fs: typeof a.findings) => fs.map((f) => JSON.stringify(f)).sort();
    expect(strip(b.findings)).toEqual(strip(a.findings));
    expect(b.findings.length).toBeGreaterThan(10);
    const inputs = await store.all<{ source: string; uri: string }>(`select source, uri from inputs`);
    expect(inputs).toEqual([{ source: 'athena', uri: `athena://us-east-1/AwsDataCatalog/security/cloudtrail_logs/${summary.athena.queryExecutionIds[0]}` }]);
  });

  it('pulls the whole lineage of a key, on which analyze gives the answer it gives on all the evidence', async () => {
    const store = await fresh();
    const summary = await ingestFromAthena({ store, runner, table, window, pull: { kind: 'lineage', pivot: { keys: [DEMO_FACTS.leakedKeyId], ips: [], principals: [], sessions: [] } }, cacheDir: join(ws.root, 'cache-lineage') });
    expect(summary.eventsLoaded).toBeGreaterThan(50);
    expect(summary.eventsLoaded).toBeLessThan(records.length);
    const spec = { keys: [DEMO_FACTS.leakedKeyId], ips: [], principals: [], sessions: [], ...window };
    const [all, pulled] = [await analyze(duckdbSource(direct), spec), await analyze(duckdbSource(store), spec)];
    // The same lineage, events, keys, principals and changes; what depends on the rest of the evidence (its end, the
    // account's other regions) is left aside, since a lineage pull leaves the rest out by design.
    expect(pulled.events).toEqual(all.events);
    expect(summary.eventsLoaded).toBe(all.events.length);
    const nodes = (r: typeof all) => {
      const out: string[] = [];
      const visit = (ns: typeof r.lineage) => ns.forEach((n) => (out.push(`${n.id} ${n.eventCount} ${n.origin?.eventId ?? ''}`), visit(n.children)));
      visit(r.lineage);
      return out;
    };
    expect(nodes(pulled)).toEqual(nodes(all));
    expect(pulled.derivedKeys.map((k) => k.accessKeyId)).toEqual(all.derivedKeys.map((k) => k.accessKeyId));
    expect(pulled.createdPrincipals).toEqual(all.createdPrincipals);
    expect(pulled.blastRadius).toEqual(all.blastRadius);
    const keys = new Set((await store.all<{ k: string }>(`select distinct access_key_id as k from events where access_key_id is not null`)).map((r) => r.k));
    expect(keys).toEqual(expect.objectContaining({}));
    for (const k of [DEMO_FACTS.leakedKeyId, DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId]) expect(keys.has(k)).toBe(true);
  });

  it('pulls the events behind findings, and a second pull adds nothing', async () => {
    const findings = (await runDetections(direct, catalog, { sensitive, minSeverity: 'high' })).findings;
    const ids = [...new Set(findings.flatMap((f) => f.eventIds))];
    const store = await fresh();
    const pull = { kind: 'events' as const, eventIds: ids };
    const first = await ingestFromAthena({ store, runner, table, window, pull, cacheDir: join(ws.root, 'cache-events') });
    expect(first.eventsLoaded).toBe(ids.length);
    const again = await ingestFromAthena({ store, runner, table, window, pull, cacheDir: join(ws.root, 'cache-events') });
    expect(again.eventsLoaded).toBe(0);
    const held = (await store.all<{ id: string }>(`select eventid as id from events order by 1`)).map((r) => r.id);
    expect(held).toEqual([...ids].sort());
    await expect(ingestFromAthena({ store, runner, table, window, pull: { kind: 'events', eventIds: ["x') or ('1'='1"] }, cacheDir: join(ws.root, 'cache-bad') })).rejects.toThrow(/is not a CloudTrail event id/);
  });

  it('rebuilds each record with CloudTrail\'s field names from the table\'s columns', async () => {
    const store = await fresh();
    await ingestFromAthena({ store, runner, table, window, pull: { kind: 'filter', filter: { keys: [DEMO_FACTS.mintedKeyId] } }, cacheDir: join(ws.root, 'cache-one') });
    const rows = await store.all<{ id: string; record: string }>(`select eventid as id, record::varchar as record from events order by eventtime, eventid`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const original = records.find((r) => r.eventID === row.id)! as unknown as Record<string, unknown>;
      const rebuilt = JSON.parse(row.record) as Record<string, unknown>;
      for (const field of ['eventTime', 'eventName', 'eventSource', 'awsRegion', 'sourceIPAddress', 'userAgent', 'requestParameters', 'responseElements', 'recipientAccountId', 'readOnly', 'eventType', 'resources']) {
        expect([field, rebuilt[field] ?? null]).toEqual([field, original[field] ?? null]);
      }
      const identity = original['userIdentity'] as Record<string, unknown>;
      expect((rebuilt['userIdentity'] as Record<string, unknown>)['accessKeyId']).toBe(identity['accessKeyId']);
      // Empty objects (a GetSessionToken session's sessionIssuer: {}) come back absent: a struct column cannot tell them from NULL.
      const context = (identity['sessionContext'] ?? {}) as Record<string, Record<string, unknown>>;
      const rebuiltContext = ((rebuilt['userIdentity'] as Record<string, unknown>)['sessionContext'] ?? {}) as Record<string, unknown>;
      expect(rebuiltContext['attributes']).toEqual(context['attributes']);
      if (Object.keys(context['sessionIssuer'] ?? {}).length) expect(rebuiltContext['sessionIssuer']).toEqual(context['sessionIssuer']);
    }
  });

  it('turns struct fields back into CloudTrail names', () => {
    const record = recordFromRow({ eventid: 'e-1', eventtime: '2026-03-04T01:02:03Z', readonly: 'false', resources: '[{"arn":"arn:aws:s3:::b","accountid":"111122223333","type":"AWS::S3::Bucket"}]', requestparameters: '{"bucketName":"b"}', ui_type: 'IAMUser', si_arn: null });
    expect(record).toEqual({
      userIdentity: { type: 'IAMUser' },
      eventTime: '2026-03-04T01:02:03Z',
      requestParameters: { bucketName: 'b' },
      eventID: 'e-1',
      readOnly: false,
      responseElements: null,
      resources: [{ ARN: 'arn:aws:s3:::b', accountId: '111122223333', type: 'AWS::S3::Bucket' }],
    });
  });
});
