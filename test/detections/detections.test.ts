import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACT_COLUMNS, loadCatalog, loadSensitiveEvents, SEVERITIES } from '../../src/detect/catalog.js';
import { evaluate, eventNamesOf, failureReason, prepareReference, runDetections } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { SNAPSHOT_FORMAT, type SnapshotDocument, type SnapshotResource } from '../../src/snapshot/types.js';
import { isEventName, makeCall, makeRecord } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
const catalog = loadCatalog(QUERIES);
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

describe('sensitive-calls catalog', () => {
  it('holds at least 300 calls, each with a tactic, a severity and a reason', () => {
    expect(sensitive.length).toBeGreaterThanOrEqual(300);
    for (const entry of sensitive) {
      expect(entry.tactic).toMatch(/^TA\d{4}$/);
      expect(SEVERITIES).toContain(entry.severity);
      expect(entry.why.length).toBeGreaterThan(10);
    }
  });

  it('names every event a dedicated detection covers, so coverage can be told apart', () => {
    const named = new Set(sensitive.map((e) => e.name));
    const missing = [...new Set(catalog.flatMap((d) => eventNamesOf(d.sql)))].filter((n) => !named.has(n)).sort();
    expect(missing).toEqual([]);
  });
});

describe('detection catalog', () => {
  it('holds detections with unique ids equal to their file names', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(8);
    expect(new Set(catalog.map((d) => d.id)).size).toBe(catalog.length);
  });

  it.each(catalog.map((d) => [d.id, d] as const))('%s returns the contract columns on an empty store', async (_id, detection) => {
    const store = await Store.open(':memory:');
    try {
      await prepareReference(store, catalog, sensitive);
      const reader = await store.connection.runAndReadAll(`select * from (${detection.sql}) as d limit 0`);
      const names = reader.columnNames();
      expect(names.slice(0, CONTRACT_COLUMNS.length)).toEqual([...CONTRACT_COLUMNS]);
      const extra = names.slice(CONTRACT_COLUMNS.length);
      expect([[], ['eventids'], ['severity'], ['eventids', 'severity']]).toContainEqual(extra);
      expect(SEVERITIES).toContain(detection.severity);
    } finally {
      store.close();
    }
  });
});

for (const detection of catalog) {
  describe(`detection ${detection.id}`, () => {
    it.each(detection.tests.map((t) => [t.name, t] as const))('%s', async (_name, test) => {
      const rng = new Random(`${detection.id}/${test.name}`);
      const records = test.events.flatMap((e) =>
        Array.from({ length: e.repeat ?? 1 }, () => {
          const overrides = (e.with ?? {}) as Record<string, unknown>;
          if (isEventName(e.event)) return makeRecord(e.event, overrides as never, rng);
          if (typeof overrides['eventSource'] !== 'string') throw new Error(`${detection.id}: ${e.event} has no canonical record; give its eventSource in "with"`);
          return makeCall(e.event, overrides['eventSource'], overrides as never, rng);
        }),
      );
      const ws = new Workspace();
      const store = await Store.open(':memory:');
      try {
        const paths = [ws.write('case.jsonl', jsonLines(records))];
        if (test.snapshot) paths.push(ws.write('snapshot.json', JSON.stringify(testSnapshot(test.snapshot))));
        const summary = await ingest(store, paths);
        if (test.snapshot) expect(summary.snapshots).toBe(1);
        expect(summary.eventsLoaded).toBe(records.length);
        await prepareReference(store, catalog, sensitive);
        const findings = await evaluate(store, detection);
        if (test.expect === 'no-match') {
          expect(findings).toEqual([]);
        } else {
          expect(findings.length).toBeGreaterThan(0);
          if (test.findings !== undefined) expect(findings).toHaveLength(test.findings);
          for (const finding of findings) {
            if (test.severity) expect(finding.severity).toBe(test.severity);
            expect(finding.outcome).toBe(test.expect === 'attempt' ? 'attempt' : 'success');
            expect(finding.eventIds.length).toBeGreaterThan(0);
            expect(finding.summary).toBeTruthy();
          }
        }
      } finally {
        store.close();
        ws.dispose();
      }
    });
  });
}

/** A snapshot document of the test account holding `resources` (the fields a case leaves out are null). */
function testSnapshot(resources: ReadonlyArray<Readonly<Record<string, unknown>>>): SnapshotDocument {
  const regions = [...new Set(['us-east-1', ...resources.map((r) => r['region']).filter((r): r is string => typeof r === 'string')])].sort();
  return {
    format: SNAPSHOT_FORMAT,
    version: 1,
    id: '20260310T000000Z-test01',
    takenAt: '2026-03-10T00:00:00.000Z',
    finishedAt: '2026-03-10T00:01:00.000Z',
    durationMs: 60_000,
    account: DEMO_FACTS.account,
    callerArn: null,
    toolVersion: 'test',
    calls: 1,
    regions: regions.map((name) => ({ name, optInStatus: 'opt-in-not-required', scanned: true })),
    resources: resources.map((r) => ({ region: null, arn: null, name: null, state: null, type: null, createdAt: null, creator: null, tags: {}, detail: {}, ...r }) as SnapshotResource),
    gaps: [],
    credentialReport: null,
  };
}

describe('detections over the demo scenario', () => {
  it('find every attacker step and nothing high-severity in the ordinary activity', async () => {
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [join(import.meta.dirname, '..', '..', 'fixtures', 'demo')]);
      const result = await runDetections(store, catalog, { sensitive });
      expect(result.failures).toEqual([]);
      const by = (id: string) => result.findings.filter((f) => f.detection === id);
      expect(by('sts_session_token_issued').map((f) => f.resource)).toContain(DEMO_FACTS.mintedKeyId);
      expect(by('iam_user_created').map((f) => f.resource)).toContain(DEMO_FACTS.createdUser);
      expect(by('iam_access_key_created').map((f) => f.summary).join('\n')).toContain(DEMO_FACTS.createdKeyId);
      expect(by('iam_admin_policy_attached').map((f) => f.resource)).toContain(DEMO_FACTS.createdUser);
      expect(by('iam_login_profile_created').map((f) => f.resource)).toContain(DEMO_FACTS.createdUser);
      expect(by('cloudtrail_logging_stopped')).toHaveLength(1);
      const launches = by('ec2_large_instances_launched');
      expect(new Set(launches.filter((f) => f.outcome === 'success').map((f) => f.region))).toEqual(new Set(DEMO_FACTS.regionsLaunched));
      expect(launches.filter((f) => f.outcome === 'attempt')).toHaveLength(1);
      expect(by('signin_console_login_without_mfa').map((f) => f.resource)).toContain(DEMO_FACTS.createdUser);
      const attackerIps = new Set<string>(DEMO_FACTS.attackerIps);
      // The account snapshot beside the logs: AWS quarantined the leaked key's user, and an instance runs where the logs never show.
      expect(by('snapshot_quarantine_policy_attached').map((f) => f.resource)).toEqual([`arn:aws:iam::${DEMO_FACTS.account}:user/${DEMO_FACTS.leakedUser}`]);
      expect(by('snapshot_resource_in_unused_region').map((f) => [f.region, f.severity])).toEqual([['eu-north-1', 'high']]);
      const serious = result.findings.filter((f) => (f.severity === 'high' || f.severity === 'critical') && !f.detection.startsWith('snapshot_'));
      expect(serious.length).toBeGreaterThan(0);
      for (const finding of serious) expect(attackerIps.has(finding.sourceIp ?? '')).toBe(true);
      const stored = await store.one<{ n: number }>('select count(*)::bigint as n from findings');
      expect(stored?.n).toBe(result.findings.length);
    } finally {
      store.close();
    }
  });
});

describe('eventNamesOf', () => {
  it('reads the event names a detection is limited to', () => {
    expect(eventNamesOf(`select 1 from events where eventsource = 'iam.amazonaws.com' and eventname = 'CreateUser'`)).toEqual(['CreateUser']);
    expect(eventNamesOf(`select * from events where eventname in ('AttachUserPolicy', 'AttachRolePolicy')`)).toEqual(['AttachUserPolicy', 'AttachRolePolicy']);
    expect(eventNamesOf(`select count(*) from events where errorcode = 'AccessDenied'`)).toEqual([]);
    expect(eventNamesOf(`with d as (select * from events where eventname = 'UpdateAccessKey') select * from events e join d on true`)).toEqual([]);
  });

  it('finds the same findings through the candidate table on every test case at once', async () => {
    const rng = new Random('all-cases');
    const records = catalog.flatMap((d) =>
      d.tests.flatMap((t) =>
        t.events.flatMap((e) =>
          Array.from({ length: e.repeat ?? 1 }, () => {
            const overrides = (e.with ?? {}) as Record<string, unknown>;
            return isEventName(e.event) ? makeRecord(e.event, overrides as never, rng) : makeCall(e.event, overrides['eventSource'] as string, overrides as never, rng);
          }),
        ),
      ),
    );
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('all.jsonl', jsonLines(records))]);
      const together = await runDetections(store, catalog, { sensitive });
      await prepareReference(store, catalog, sensitive);
      const oneByOne = (await Promise.all(catalog.map((d) => evaluate(store, d)))).flat();
      const key = (f: { detection: string; eventIds: readonly string[] }) => `${f.detection}/${f.eventIds.join(',')}`;
      expect(together.findings.map(key).sort()).toEqual(oneByOne.map(key).sort());
      expect(together.findings.length).toBeGreaterThan(catalog.length);
    } finally {
      store.close();
      ws.dispose();
    }
  });

  it('finds the same findings through the candidate table as detection by detection', async () => {
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [join(import.meta.dirname, '..', '..', 'fixtures', 'demo')]);
      const together = await runDetections(store, catalog, { sensitive });
      await prepareReference(store, catalog, sensitive);
      const oneByOne = (await Promise.all(catalog.map((d) => evaluate(store, d)))).flat();
      expect(together.findings.length).toBe(oneByOne.length);
      expect(new Set(together.findings.map((f) => `${f.detection}/${f.eventIds[0]}`))).toEqual(new Set(oneByOne.map((f) => `${f.detection}/${f.eventIds[0]}`)));
    } finally {
      store.close();
    }
  });
});

describe('records as CloudTrail writes them', () => {
  it('detections fire on old event versions, unknown regions and a userIdentity without type', async () => {
    const rng = new Random('odd-records');
    const odd = (name: 'StopLogging' | 'CreateUser') => {
      const record = makeRecord(name, { eventVersion: '1.0', awsRegion: 'xx-future-1' }, rng) as unknown as Record<string, unknown>;
      const { type: _type, ...identity } = record['userIdentity'] as Record<string, unknown>;
      return { ...record, userIdentity: identity };
    };
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('odd.json', JSON.stringify({ Records: [odd('StopLogging'), odd('CreateUser')] }))]);
      const result = await runDetections(store, catalog, { sensitive });
      expect(result.failures).toEqual([]);
      expect(result.findings.map((f) => f.detection)).toEqual(expect.arrayContaining(['cloudtrail_logging_stopped', 'iam_user_created']));
    } finally {
      store.close();
      ws.dispose();
    }
  });
});

describe('a detection that does not fit in memory', () => {
  it('fails alone, with what to do; the others run', async () => {
    const store = await Store.open(':memory:', { threads: 1 });
    const ws = new Workspace();
    try {
      await ingest(store, [ws.write('one.json', JSON.stringify({ Records: [makeRecord('StopLogging', {}, new Random('oom'))] }))]);
      await store.run(`set memory_limit = '32MiB'`);
      const base = catalog.find((d) => d.id === 'cloudtrail_logging_stopped')!;
      // A string aggregate cannot spill to disk: 128 MiB of text in 32 MiB.
      const heavy = { ...base, id: 'needs_memory', sql: `select * from (${base.sql}) where (select length(string_agg(md5(i::varchar) || md5((i + 1)::varchar), '')) from range(2000000) t(i)) > 0` };
      const result = await runDetections(store, [base, heavy], { sensitive });
      expect(result.failures).toEqual([{ detection: 'needs_memory', reason: expect.stringMatching(/^Out of Memory Error: .*: the other detections ran; run this one again with a larger --memory-limit$/) }]);
      expect(result.findings.map((f) => f.detection)).toEqual(['cloudtrail_logging_stopped']);
    } finally {
      store.close();
      ws.dispose();
    }
  });

  it('other errors are reported as DuckDB gives them, in one line', () => {
    expect(failureReason(new Error('Binder Error: no such column\nLINE 1: ...'))).toBe('Binder Error: no such column');
  });
});
