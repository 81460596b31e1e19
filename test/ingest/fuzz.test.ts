import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { storeCoverage } from '../../src/analyze/coverage.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { storeStats } from '../../src/store/stats.js';
import { runDetections } from '../../src/detect/runner.js';
import { planFromStore, timelineFromStore } from '../../src/report/from-store.js';
import { renderTimelineCsv, renderTimelineMarkdown } from '../../src/report/timeline-renderers.js';
import type { Store } from '../../src/store/store.js';
import { verifyEvidence } from '../../src/verify/verify.js';
import { iamUserIdentity, makeRecord, type EventName } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

const NAMES: EventName[] = ['CreateUser', 'CreateAccessKey', 'GetCallerIdentity', 'RunInstances', 'StopLogging', 'AssumeRole'];
const TIMES = ['2026-03-02T10:00:00Z', '2026-03-02T10:00:00.123456789Z', 'infinity', '-infinity', 'epoch', '2012-12-31T23:59:59Z', '10000-01-01T00:00:00Z', '0001-01-01T00:00:00 BC', 'now', '', '2026-13-01T00:00:00Z', '2099-01-01T00:00:00Z'];
const STRINGS = ['', 'x', '\u0000', '\u001b[31mred', 'line\r\nforged: yes', '"quoted"', '=1+1', '--endpoint-url=http://evil', 'é🦆', '\\', '{"a":1}'];

/** A random JSON value, nested up to `depth` levels. */
function junk(rng: Random, depth: number): unknown {
  if (depth <= 0) return rng.pick([null, true, 0, -1.5e300, 1e21, rng.pick(STRINGS), 'y'.repeat(rng.int(0, 3000))]);
  switch (rng.int(0, 3)) {
    case 0:
      return [junk(rng, depth - 1), junk(rng, rng.int(0, depth - 1))];
    case 1:
      return { k: junk(rng, depth - 1), userName: rng.pick(STRINGS) };
    default:
      return junk(rng, 0);
  }
}

/** One record as JSON text: mostly CloudTrail-shaped, with random damage. */
function recordText(rng: Random, i: number): string {
  switch (rng.int(0, 19)) {
    case 0:
      return rng.pick(['null', '7', '"text"', '[1,2]', '{}', 'true']);
    case 1:
      return JSON.stringify({ hello: junk(rng, 3) });
    default:
  }
  const name = rng.pick(NAMES);
  const base = makeRecord(name, { eventTime: new Date(Date.UTC(2026, 2, 2, 10, 0, i)).toISOString(), userIdentity: iamUserIdentity({ account: rng.pick(['111122223333', '444455556666']), userName: 'u', accessKeyId: rng.pick(['AKIAQ3EGRV7XFUZZ0001', 'AKIAQ3EGRV7XFUZZ0002']) }) }, rng) as unknown as Record<string, unknown>;
  if (rng.chance(0.3)) base['eventTime'] = rng.pick(TIMES);
  if (rng.chance(0.05)) base['eventTime'] = rng.int(0, 2e9);
  if (rng.chance(0.05)) delete base['eventName'];
  if (rng.chance(0.05)) base['eventName'] = junk(rng, 2);
  if (rng.chance(0.2)) base['eventID'] = rng.pick(['', 'dup-id-1', 'dup-id-2', undefined, 42, null]);
  if (rng.chance(0.05)) base['recipientAccountId'] = rng.pick([null, '', 12, '999988887777']);
  if (rng.chance(0.3)) base['requestParameters'] = junk(rng, rng.pick([1, 5, 40, 63, 64, 65, 90]));
  if (rng.chance(0.05)) base['userIdentity'] = junk(rng, 2);
  let text = JSON.stringify(base);
  // Repeated keys cannot come from JSON.stringify: splice one in.
  if (rng.chance(0.1)) text = text.replace('"eventName":', `"eventName":${JSON.stringify(rng.pick(STRINGS))},"eventName":`);
  if (rng.chance(0.05)) text = text.replace('"eventID":', '"eventID":"dup-id-3","eventID":');
  return text;
}

describe('ingest fuzz: random record shapes', () => {
  it('never crashes; every record is loaded, rejected with a reason, or an exact duplicate; every command reads the store', async () => {
    const rng = new Random('ingest-fuzz');
    const texts: string[] = [];
    const files: Array<{ path: string; records: number }> = [];
    for (let f = 0; f < 8; f++) {
      const list = Array.from({ length: rng.int(5, 40) }, (_, i) => recordText(rng, f * 100 + i));
      // Exact copies, inside the file and of earlier files.
      for (let c = rng.int(0, 3); c > 0 && texts.length > 0; c--) list.push(rng.pick(texts));
      texts.push(...list);
      const shape = f % 4;
      const body = shape === 0 || shape === 1 ? `{"Records":[${list.join(',')}]}` : shape === 2 ? `[${list.join(',')}]` : `${list.join('\n')}\n`;
      const name = `f${f}.${shape === 3 ? 'jsonl' : 'json'}${f % 2 === 0 ? '.gz' : ''}`;
      files.push({ path: ws.write(name, body), records: list.length });
    }
    const first = await ingest(store, files.slice(0, 5).map((f) => f.path));
    const second = await ingest(store, files.slice(5).map((f) => f.path));

    // Every record is accounted for, file by file.
    const inputs = await store.all<{ uri: string; records: number; loaded: number; duplicates: number; rejected: number }>(`select uri, records, loaded, duplicates, rejected from inputs order by uri`);
    const skipped = [...first.skipped, ...second.skipped];
    for (const file of files) {
      const row = inputs.find((r) => r.uri === file.path);
      if (!row || row.records === null) {
        // Only a file whose every record was left out may be skipped, and it says why.
        expect(skipped.find((s) => s.path === file.path)?.reason).toMatch(/^no CloudTrail events in it/);
        continue;
      }
      expect(row.records).toBe(file.records);
      expect(row.loaded + row.duplicates + row.rejected).toBe(file.records);
    }
    const totals = inputs.reduce((t, r) => ({ loaded: t.loaded + (r.loaded ?? 0), rejected: t.rejected + (r.rejected ?? 0), duplicates: t.duplicates + (r.duplicates ?? 0) }), { loaded: 0, rejected: 0, duplicates: 0 });
    expect(totals.loaded + totals.rejected + totals.duplicates).toBe(texts.length);
    expect(totals.rejected).toBeGreaterThan(0);
    expect(totals.duplicates).toBeGreaterThan(0);
    const stored = await store.one<{ n: number; distinct: number }>(`select count(*)::bigint as n, count(distinct (eventkey, coalesce(recipientaccountid, ''), md5(json(record))))::bigint as distinct from event_rows`);
    expect(stored?.n).toBe(totals.loaded);
    // What was reported as a duplicate is gone; what remains is distinct.
    expect(stored?.distinct).toBe(stored?.n);
    const reasons = await store.all<{ n: number; blank: number }>(`select count(*)::bigint as n, count(*) filter (where coalesce(detail, '') = '')::bigint as blank from record_issues where kind = 'rejected'`);
    expect(reasons[0]).toEqual({ n: totals.rejected, blank: 0 });

    // Every command still reads the store.
    const stats = await storeStats(store);
    expect(stats.events).toBe(totals.loaded);
    const detected = await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
    expect(detected.failures).toEqual([]);
    const generatedAt = new Date('2026-03-03T00:00:00Z');
    const timeline = await timelineFromStore(store, { generatedAt, keys: ['AKIAQ3EGRV7XFUZZ0001'] });
    expect(renderTimelineMarkdown(timeline).length).toBeGreaterThan(0);
    expect(renderTimelineCsv(timeline).length).toBeGreaterThan(0);
    expect((await planFromStore(store, { generatedAt })).steps.length).toBeGreaterThan(0);
    const analyzed = await analyze(duckdbSource(store), { keys: ['AKIAQ3EGRV7XFUZZ0002'], ips: [], principals: [], sessions: [] });
    expect(analyzed).toBeDefined();
    expect((await storeCoverage(store, {})).events).toBe(totals.loaded);
    expect((await verifyEvidence({ store })).storedRecords.modified).toBe(0);
  }, 60_000);
});
