import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { sizeBytes } from '../../src/core/size.js';
import { alertArray, fromStored, groupAlerts, groupAlertsInto, loadAlerts, loadMatches, type Alert, type StoredFinding } from '../../src/detect/alerts.js';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import type { Finding } from '../../src/detect/finding.js';
import { loadFindings } from '../../src/report/from-store.js';
import { Store } from '../../src/store/store.js';
import { makeCall, makeRecord } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
const catalog = loadCatalog(QUERIES);
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

function match(over: Partial<Finding>): Finding {
  return {
    detection: 'd_x_found', title: 't', severity: 'low', outcome: 'success', tactics: [], techniques: [], eventIds: ['e1'],
    eventTime: '2026-03-01T10:00:00Z', eventName: 'X', actor: 'arn:aws:iam::111122223333:user/a', accessKeyId: 'AKIAEXAMPLE000000001',
    sourceIp: '203.0.113.5', account: '111122223333', region: 'us-east-1', resource: 'r', summary: 's', ...over,
  };
}

describe('alert grouping', () => {
  it('groups matches of one detection, key, address and resource within the window, keeping every event id', () => {
    const alerts = groupAlerts([
      match({ eventIds: ['e1'], eventTime: '2026-03-01T10:00:00Z' }),
      match({ eventIds: ['e2'], eventTime: '2026-03-01T10:30:00Z', severity: 'high' }),
      match({ eventIds: ['e3', 'e2'], eventTime: '2026-03-01T11:20:00Z' }),
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ count: 3, firstTime: '2026-03-01T10:00:00Z', lastTime: '2026-03-01T11:20:00Z', severity: 'high', eventIds: ['e1', 'e2', 'e3'] });
  });

  it('splits on a gap longer than the window, and on another address, key, resource or detection', () => {
    const alerts = groupAlerts([
      match({ eventIds: ['e1'] }),
      match({ eventIds: ['e2'], eventTime: '2026-03-01T11:00:01Z' }),
      match({ eventIds: ['e3'], sourceIp: '198.51.100.1' }),
      match({ eventIds: ['e4'], accessKeyId: 'AKIAEXAMPLE000000002' }),
      match({ eventIds: ['e5'], resource: 'other' }),
      match({ eventIds: ['e6'], detection: 'd_y_found' }),
      match({ eventIds: ['e7'], outcome: 'attempt' }),
    ]);
    expect(alerts.map((a) => a.eventIds.join())).toEqual(['e1', 'e3', 'e4', 'e5', 'e6', 'e7', 'e2']);
    expect(alerts.every((a) => a.count === 1)).toBe(true);
  });

  it('groups by actor when a match has no key', () => {
    const alerts = groupAlerts([match({ accessKeyId: null, eventIds: ['e1'] }), match({ accessKeyId: null, eventIds: ['e2'] }), match({ accessKeyId: null, actor: 'other', eventIds: ['e3'] })]);
    expect(alerts.map((a) => a.count)).toEqual([2, 1]);
  });
});

describe('alert grouping inside the store', () => {
  /** Alerts compared field by field, times as instants (the store writes them its own way). */
  const plain = (alerts: readonly Alert[]) =>
    alerts.map((a) => ({ ...a, eventTime: at(a.eventTime), firstTime: at(a.firstTime), lastTime: at(a.lastTime) }));
  const at = (t: string | null) => (t ? new Date(t).toISOString() : null);

  it('gives exactly the alerts the in-memory grouping gives, on gaps, missing times, keys, severities and repeated ids', async () => {
    const t = (minutes: number) => new Date(Date.parse('2026-03-01T10:00:00Z') + minutes * 60_000).toISOString();
    const matches: Finding[] = [
      match({ eventIds: ['n1'], eventTime: null }),
      match({ eventIds: ['a1'], eventTime: t(0) }),
      match({ eventIds: ['a2', 'a1'], eventTime: t(59), severity: 'critical' }),
      match({ eventIds: ['a3'], eventTime: t(118) }),
      match({ eventIds: ['a4'], eventTime: t(179) }), // 61 minutes after a3: a new alert
      match({ eventIds: ['a5'], eventTime: t(180), severity: 'medium' }),
      match({ eventIds: ['b1'], eventTime: t(5), detection: 'd_y_found', severity: 'high' }),
      match({ eventIds: ['c1'], eventTime: t(5), accessKeyId: null, actor: 'arn:aws:iam::111122223333:role/r' }),
      match({ eventIds: ['c2'], eventTime: t(6), accessKeyId: null, actor: 'arn:aws:iam::111122223333:role/r' }),
      match({ eventIds: ['d1'], eventTime: t(7), outcome: 'attempt', title: 't (attempt)' }),
      match({ eventIds: ['e1'], eventTime: t(8), sourceIp: null, resource: null }),
      match({ eventIds: ['e2'], eventTime: t(9), sourceIp: null, resource: null, summary: 'second' }),
      match({ eventIds: [], eventTime: t(10), resource: 'no ids' }),
      match({ eventIds: ['f1'], eventTime: '2026-03-01T10:11:00.250Z', resource: 'sub-second' }),
      // written by DuckDB as JSON text and parsed back: quotes, escapes, control characters and other scripts survive
      match({ eventIds: ['h1'], eventTime: t(12), resource: 'hostile', summary: 'a "quoted" \\ back\u0007bell\u001b[31m \u2028 é 🦆 </script>' }),
      ...Array.from({ length: 40 }, (_, i) => match({ eventIds: [`z${i % 7}`], eventTime: t(300 + i * 20 + (i % 3)), sourceIp: '198.51.100.7', severity: i % 5 === 0 ? 'high' : 'low' })),
    ];
    const store = await Store.open(':memory:');
    try {
      await store.run(`create temp table m as select * exclude (detect_run_id) from findings limit 0`);
      for (const f of matches) {
        await store.run(
          `insert into temp.m values ($detection, $title, $severity, $outcome, $tactics, $techniques, $ids, $time::timestamptz, $name, $actor, $key, $ip, $account, $region, $resource, $summary)`,
          {
            detection: f.detection, title: f.title, severity: f.severity, outcome: f.outcome, tactics: listValue([...f.tactics]), techniques: listValue([...f.techniques]),
            ids: listValue([...f.eventIds]), time: f.eventTime, name: f.eventName, actor: f.actor, key: f.accessKeyId, ip: f.sourceIp, account: f.account,
            region: f.region, resource: f.resource, summary: f.summary,
          },
          { tactics: LIST(VARCHAR), techniques: LIST(VARCHAR), ids: LIST(VARCHAR) },
        );
      }
      const expected = groupAlerts(matches);
      const got = await (await groupAlertsInto(store, 'temp.grouped', 'temp.m')).all();
      expect(got).toHaveLength(10);
      expect(got.find((a) => a.resource === 'hostile')?.summary).toBe('a "quoted" \\ back\u0007bell\u001b[31m \u2028 é 🦆 </script>');
      // the JSON text of each alert has the fields of an Alert, in its order
      const stream = await groupAlertsInto(store, 'temp.streamed', 'temp.m');
      expect(stream.count).toBe(10);
      const texts = [];
      for await (const batch of stream.jsonBatches(3)) texts.push(...batch);
      expect(texts.map((text) => Object.keys(JSON.parse(text)))).toEqual(expected.map((a) => Object.keys(a)));
      expect(texts.map((text) => JSON.parse(text))).toEqual(got);
      // as bytes, the body of a JSON array: the same alerts, hostile text and other scripts intact, from DuckDB and from memory
      for (const source of [stream, alertArray(got)]) {
        const chunks: string[] = [];
        for await (const chunk of source.jsonChunks('  ', 3)) chunks.push(Buffer.from(chunk).toString('utf8'));
        expect(chunks).toHaveLength(4);
        expect(chunks[0]!.startsWith('\n  {')).toBe(true);
        expect(JSON.parse(`[${chunks.join(',')}]`)).toEqual(got);
      }
      const none = alertArray([]);
      const empty: Uint8Array[] = [];
      for await (const chunk of none.jsonChunks('  ')) empty.push(chunk);
      expect(empty).toEqual([]);
      // times read back in the store's own form: seconds unless the time has milliseconds
      expect(got.find((a) => a.resource === 'sub-second')).toMatchObject({ firstTime: '2026-03-01T10:11:00.250Z', lastTime: '2026-03-01T10:11:00.250Z' });
      expect(got.find((a) => a.resource === 'no ids')).toMatchObject({ firstTime: '2026-03-01T10:10:00Z' });
      expect(got[0]).toMatchObject({ count: 4, severity: 'critical', eventIds: ['n1', 'a1', 'a2', 'a3'] });
      expect(got.map((a) => a.count).reduce((x, y) => x + y, 0)).toBe(matches.length);
      expect(plain(got)).toEqual(plain(expected));
    } finally {
      store.close();
    }
  });

  it('gives the in-memory grouping on more matches than a row group holds (the sort and the windows run on every thread)', async () => {
    const store = await Store.open(':memory:');
    try {
      // 130,000 matches over 3 detections, 20 keys (some absent: grouped by actor), 5 addresses and 3 resources,
      // at times with gaps longer and shorter than the window, a few without a time; ids are unique, so no two matches tie in the order.
      await store.run(`create temp table m as select * exclude (detect_run_id) from findings limit 0`);
      await store.run(
        `insert into temp.m
         select 'd_' || (i % 3)::varchar, 't' || (i % 3)::varchar, ['info', 'low', 'medium', 'high', 'critical'][1 + (hash(i, 'sev') % 5)::integer],
                if(i % 11 = 0, 'attempt', 'success'), ['TA0001'], ['T1078'], ['id' || lpad(i::varchar, 7, '0')] || if(i % 97 = 0, ['id' || lpad((i - 1)::varchar, 7, '0')], []),
                if(i % 1009 = 0, null, timestamptz '2026-03-01 00:00:00+00' + to_minutes((hash(i, 't') % 3000)::bigint) + to_seconds((i % 60)::bigint)),
                'X', 'arn:aws:iam::111122223333:user/u' || (i % 37)::varchar, if(i % 13 = 0, null, 'AKIA' || lpad((hash(i, 'k') % 20)::varchar, 16, '0')),
                if(i % 17 = 0, null, '203.0.113.' || (hash(i, 'ip') % 5)::varchar), '111122223333', 'us-east-1',
                if(i % 19 = 0, null, 'r' || (hash(i, 'r') % 3)::varchar), 's' || (i % 5)::varchar
         from range(130000) t(i)`,
      );
      const rows = await store.allJson<StoredFinding>(`select * replace (strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ') as eventtime) from temp.m`);
      const expected = groupAlerts(rows.map(fromStored));
      const got = await (await groupAlertsInto(store, 'temp.grouped', 'temp.m')).all();
      expect(got.length).toBeGreaterThan(10_000);
      expect(got.length).toBeLessThan(60_000);
      expect(got.map((a) => a.count).reduce((x, y) => x + y, 0)).toBe(130_000);
      // compared as text: a deep comparison of 100,000 objects takes the test's time
      expect(JSON.stringify(plain(got))).toBe(JSON.stringify(plain(expected)));
      // Written a slice of alerts at a time (bounded memory), the alerts are the same, slice edges included.
      const sliced = await (await groupAlertsInto(store, 'temp.sliced', 'temp.m', {}, 7_777)).all();
      expect(JSON.stringify(plain(sliced))).toBe(JSON.stringify(plain(expected)));
    } finally {
      store.close();
    }
  }, 60_000);
});

describe('stored detect runs', () => {
  it('keeps every run whole: --min-severity filters the view, the store keeps all matches, and alerts load back', async () => {
    const key = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/dev', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLEALERTS001', userName: 'dev' };
    const records = [
      ...Array.from({ length: 5 }, (_, i) =>
        makeCall('GetParameter', 'ssm.amazonaws.com', { eventTime: `2026-03-01T10:00:0${i}Z`, sourceIPAddress: '203.0.113.9', userIdentity: key, requestParameters: { name: `/prod/db/password${i}`, withDecryption: true } } as never),
      ),
      makeRecord('StopLogging', { eventTime: '2026-03-01T10:05:00Z', sourceIPAddress: '203.0.113.9', userIdentity: key } as never),
    ];
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('case.jsonl', jsonLines(records))]);
      const all = await runDetections(store, catalog, { sensitive });
      const high = await runDetections(store, catalog, { sensitive, minSeverity: 'high' });
      expect(high.findings.length).toBeLessThan(all.findings.length);
      expect(high.findings.every((f) => f.severity === 'high' || f.severity === 'critical')).toBe(true);
      // The filtered run stored everything all the same, and the earlier run is still there.
      expect((await loadMatches(store)).length).toBe(all.findings.length);
      expect((await loadMatches(store, all.runId)).length).toBe(all.findings.length);
      expect((await loadFindings(store)).length).toBe(all.findings.length);
      const alerts = await loadAlerts(store);
      expect(all.failures).toEqual([]);
      const ssm = alerts.filter((a) => a.detection.startsWith('ssm_'));
      expect(ssm).toHaveLength(1);
      expect(ssm[0]!.eventIds).toHaveLength(5);
      expect((await loadAlerts(store, { minSeverity: 'critical' })).map((a) => a.detection)).toEqual(['cloudtrail_logging_stopped']);
    } finally {
      store.close();
      ws.dispose();
    }
  });

  it('loads no alerts from a store detect never ran on', async () => {
    const store = await Store.open(':memory:');
    try {
      expect(await loadAlerts(store)).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('the memory limit as DuckDB reads it back', () => {
  it('is a size sizeBytes reads, which sizes the slices of alerts', () => {
    expect(sizeBytes('988.0 MiB')).toBe(988 * 2 ** 20);
    expect(sizeBytes('1.5 GiB')).toBe(1.5 * 2 ** 30);
    expect(sizeBytes('512 bytes')).toBeNull();
    expect(sizeBytes('-1')).toBeNull();
  });
});
