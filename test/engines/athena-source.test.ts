import pkg from 'node-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import type { EventFilter, EvidenceSource } from '../../src/analyze/source.js';
import { AthenaRunner, ScanLimitError } from '../../src/engines/athena-client.js';
import { athenaSource, athenaWhere, ipv4Range } from '../../src/engines/athena-source.js';
import { Store } from '../../src/store/store.js';
import { DEMO_FACTS, demoScenario } from '../../synth/scenario.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { useFakeAwsEnv } from '../fakes/http.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';
import { AthenaEmulator } from './emulator.js';
import { trinoFunctionsOf, TRINO_FUNCTIONS } from './trino.js';

describe('analyze on Athena reads the same evidence as on the store', () => {
  const records = demoScenario();
  let store: Store;
  let ws: Workspace;
  let emulator: AthenaEmulator;
  let fake: FakeAthena;
  let runner: AthenaRunner;
  let local: EvidenceSource;
  let remote: EvidenceSource;
  const since = new Date('2026-03-01T00:00:00Z');
  const until = new Date('2026-03-08T00:00:00Z');

  beforeAll(async () => {
    useFakeAwsEnv();
    ws = new Workspace();
    store = await Store.open(':memory:');
    await ingest(store, [ws.write('demo.jsonl', jsonLines(records))]);
    emulator = await AthenaEmulator.create(records, 'ymd');
    fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 100 }).start();
    runner = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, poll: { initialMs: 1, factor: 1, maxMs: 1 } });
    local = duckdbSource(store);
    remote = athenaSource(runner, await runner.describeTable(), { window: { since, until } });
  });
  afterAll(async () => {
    runner.close();
    await fake.stop();
    emulator.close();
    store.close();
    ws.dispose();
  });

  const filters: ReadonlyArray<[string, EventFilter]> = [
    ['a key', { keys: [DEMO_FACTS.leakedKeyId] }],
    ['keys and event names', { keys: [DEMO_FACTS.leakedKeyId, DEMO_FACTS.mintedKeyId], eventNames: ['RunInstances', 'GetSessionToken'] }],
    ['an address and a CIDR block', { ips: ['203.0.113.142', '203.0.113.64/26'] }],
    ['a user name', { principals: [DEMO_FACTS.createdUser] }],
    ['a principal ARN and a window', { principals: [`arn:aws:iam::${DEMO_FACTS.account}:user/${DEMO_FACTS.leakedUser}`], since: new Date('2026-03-04T00:00:00Z'), until: new Date('2026-03-05T00:00:00Z') }],
    ['a session key', { sessions: [DEMO_FACTS.mintedKeyId] }],
    ['the call that minted a session key', { mintedKeys: [DEMO_FACTS.mintedKeyId, 'ASIANEVERMINTED00001'] }],
    ['regions, with a limit', { keys: [DEMO_FACTS.leakedKeyId], regions: ['us-east-1', 'sa-east-1'], limit: 7 }],
    ['a value with a quote in it', { principals: ["o'brien"], keys: ["AKIA' or '1'='1"] }],
  ];

  it.each(filters)('fetchEvents: %s', async (_name, filter) => {
    const [a, b] = [await local.fetchEvents(filter), await remote.fetchEvents(filter)];
    expect(b).toEqual(a);
    if (!filter.principals?.includes("o'brien")) expect(a.length).toBeGreaterThan(0);
    const sent = fake.queries.at(-1)!;
    // User values travel as execution parameters, never in the SQL text.
    for (const value of [...(filter.keys ?? []), ...(filter.principals ?? [])]) expect(sent.sql).not.toContain(value);
    // The days scanned are those of the narrower of the investigation's window and the call's.
    const day = (filter.since ?? since).toISOString().slice(8, 10);
    expect(sent.sql).toContain(`("year" > '2026' or ("year" = '2026' and ("month" > '03' or ("month" = '03' and "day" >= '${day}'))))`);
  });

  it('regionFirstSeen and coverage agree with the store', async () => {
    expect(await remote.regionFirstSeen([DEMO_FACTS.account])).toEqual(await local.regionFirstSeen([DEMO_FACTS.account]));
    const [a, b] = [await local.coverage({ since, until }), await remote.coverage({ since, until })];
    expect({ from: b.from, to: b.to, accounts: b.accounts, regions: b.regions, events: b.events }).toEqual({ from: a.from, to: a.to, accounts: a.accounts, regions: a.regions, events: a.events });
    expect(b.sources).toEqual([{ name: 'athena', count: records.length }]);
    expect(b.gaps).toEqual(a.gaps.filter((g) => g.kind === 'logging-stopped'));
    expect(b.gaps).toHaveLength(1);
  });

  it('a whole analyze of the leaked key gives the same answer on both', async () => {
    const spec = { keys: [DEMO_FACTS.leakedKeyId], ips: [], principals: [], sessions: [], since, until };
    const [a, b] = [await analyze(local, spec), await analyze(remote, spec)];
    const { coverage: ca, ...restA } = a;
    const { coverage: cb, ...restB } = b;
    expect(restB).toEqual(restA);
    expect(restB.derivedKeys.map((k) => k.accessKeyId)).toEqual(expect.arrayContaining([DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId]));
    expect(cb.events).toBe(ca.events);
  });

  it('every query it sends parses as Trino and calls only Trino functions', () => {
    const parser = new pkg.Parser();
    expect(fake.queries.length).toBeGreaterThan(10);
    for (const q of fake.queries) {
      const ast = parser.astify(q.sql, { database: 'trino' });
      expect(trinoFunctionsOf(ast).filter((f) => !TRINO_FUNCTIONS.has(f))).toEqual([]);
    }
  });

  it('refuses under a scan limit to query without a start', async () => {
    const guarded = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, maxScanBytes: 2 ** 30 });
    try {
      const source = athenaSource(guarded, await guarded.describeTable(), { window: {} });
      await expect(source.fetchEvents({ keys: [DEMO_FACTS.leakedKeyId] })).rejects.toThrow(ScanLimitError);
    } finally {
      guarded.close();
    }
  });
});

describe('the filter on Athena', () => {
  it('puts every user value in a parameter, quoted as an SQL literal', () => {
    const where = athenaWhere({ keys: ["AKIA'x"], principals: ['alice'], ips: ['10.0.0.0/8'] });
    expect(where.sql).not.toContain("AKIA'x");
    expect(where.parameters).toEqual(["'AKIA''x'", "'alice'", "'alice'", "'alice'", "'alice'", '167772160', '184549375']);
    expect(where.sql.split('?').length - 1).toBe(where.parameters.length);
  });

  it('turns IPv4 CIDR blocks into ranges and refuses IPv6 blocks', () => {
    expect(ipv4Range('203.0.113.64/26')).toEqual([3405803840, 3405803903]);
    expect(ipv4Range('0.0.0.0/0')).toEqual([0, 2 ** 32 - 1]);
    expect(() => ipv4Range('2001:db8::/32')).toThrow(/IPv6 blocks are not supported with --engine athena/);
    expect(() => ipv4Range('10.0.0.0/33')).toThrow(/not an address or CIDR block/);
  });
});
