import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatVerify } from '../../src/cli/verify-command.js';
import { probeFile } from '../../src/ingest/probe.js';
import { withinDepth } from '../../src/store/bulk-load.js';
import { storeStats } from '../../src/store/stats.js';
import { verifyEvidence } from '../../src/verify/verify.js';
import type { Store } from '../../src/store/store.js';
import { count, ingest, memoryStore, sandbox } from '../helpers/store.js';
import { Workspace, jsonLines, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

/** What the events table holds, as comparable rows. */
async function contents(s: Store): Promise<string[]> {
  const rows = await s.all<{ k: string; a: string | null; r: string }>(`select eventkey as k, recipientaccountid as a, json(record)::varchar as r from event_rows order by all`);
  return rows.map((row) => JSON.stringify(row));
}

describe('ingest integrity: the hash recorded is the hash of the bytes parsed', () => {
  it('a file swapped between scan and load (then put back) leaves no forged event', async () => {
    const genuine = recordsFile(records(3, 1));
    const forged = recordsFile(records(3, 1, ['CreateUser'], { eventID: 'forged-0001' }));
    const path = ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/f.json', genuine);
    const summary = await ingest(store, [path], {
      beforeLoad: async () => {
        writeFileSync(path, forged);
      },
    });
    writeFileSync(path, genuine);
    expect(await count(store, `select count(*) as n from events where eventname = 'CreateUser'`)).toBe(0);
    expect(summary.skipped).toEqual([{ path, reason: expect.stringMatching(/^changed while it was being ingested \(sha256 \w{64} when scanned, \w{64} when loaded\); ingest it again/) }]);
    // Put back, it loads on the next run: it was never recorded as ingested.
    const again = await ingest(store, [path]);
    expect(again.eventsLoaded).toBe(3);
  });

  it('each loaded input records the digest of its stored records', async () => {
    const path = ws.write('f.json.gz', recordsFile(records(4, 2)));
    await ingest(store, [path]);
    const row = await store.one<{ recorded: string; derived: string }>(
      `select i.records_digest as recorded,
              (select md5(string_agg(md5(record), '' order by md5(record))) from event_rows e where e.input_id = i.input_id) as derived
       from inputs i where uri = ?`,
      [path],
    );
    expect(row?.recorded).toMatch(/^[0-9a-f]{32}$/);
    expect(row?.recorded).toBe(row?.derived);
  });
});

describe('ingest integrity: a records digest is taken once its batch has committed', () => {
  const digests = (s: Store) =>
    s.all<{ recorded: string; derived: string }>(
      `select i.records_digest as recorded,
              (select md5(string_agg(md5(record), '' order by md5(record))) from event_rows e where e.input_id = i.input_id) as derived
       from inputs i where status = 'loaded' order by input_id`,
    );

  it('a run cut off before it: verify counts the file as not comparable, the next ingest takes the digest first', async () => {
    const first = ws.write('f.json.gz', recordsFile(records(4, 2)));
    await ingest(store, [first]);
    // What a kill between the batch's commit and its digest leaves.
    await store.run(`update inputs set records_digest = 'pending' where uri = ?`, [first]);
    expect((await verifyEvidence({ store })).storedRecords).toMatchObject({ inputs: 0, modified: 0, pending: 1 });
    expect(formatVerify(await verifyEvidence({ store }))).toContain('1 whose load was cut off before its digest was taken (the next ingest takes it): not comparable');

    // The next ingest digests the marked input from the rows as they are then.
    await ingest(store, [ws.write('g.json', recordsFile(records(2, 7)))]);
    const rows = await digests(store);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.recorded).toBe(row.derived);
    expect((await verifyEvidence({ store })).storedRecords).toMatchObject({ inputs: 2, modified: 0, pending: 0 });
  });

  it('a file whose records were all left out as duplicates records the empty digest', async () => {
    const file = recordsFile(records(3, 9));
    await ingest(store, [ws.write('a.json', file)]);
    await ingest(store, [ws.write('b.json.gz', file)]);
    const rows = await store.all<{ loaded: bigint; records_digest: string }>(`select loaded, records_digest from inputs where status = 'loaded' order by input_id`);
    expect(rows.map((r) => [Number(r.loaded), r.records_digest])).toEqual([
      [3, expect.stringMatching(/^[0-9a-f]{32}$/)],
      [0, '0'.repeat(32)],
    ]);
    expect((await verifyEvidence({ store })).storedRecords).toMatchObject({ inputs: 2, modified: 0, pending: 0 });
  });
});

describe('ingest integrity: deduplication keeps distinct records', () => {
  it('same eventID with other content is a conflict: both kept and listed', async () => {
    const [a] = records(1, 3);
    const b = { ...a!, eventName: 'DeleteTrail' };
    const summary = await ingest(store, [ws.write('a.json', recordsFile([a!])), ws.write('b.json', recordsFile([b]))]);
    expect(summary.eventsLoaded).toBe(2);
    expect(summary.duplicates).toBe(0);
    expect(summary.conflicts).toBe(2);
    expect(await count(store, `select count(*) as n from record_issues where kind = 'conflict'`)).toBe(2);
    expect(summary.warnings.map((w) => w.reason)).toContainEqual(expect.stringMatching(/share their eventID and account/));
  });

  it('the same eventID in two accounts is two events', async () => {
    const [a] = records(1, 4);
    const b = { ...a!, recipientAccountId: '444455556666' };
    const summary = await ingest(store, [ws.write('a.json', recordsFile([a!, b]))]);
    expect(summary.eventsLoaded).toBe(2);
    expect(summary.conflicts).toBe(0);
  });

  it('empty or missing eventIDs never collapse distinct records; identical ones are one record', async () => {
    const list = records(4, 5).map((r, i) => ({ ...r, eventID: i % 2 === 0 ? '' : undefined }));
    const summary = await ingest(store, [ws.write('a.json', recordsFile([...list, list[0]!]))]);
    expect(summary.eventsLoaded).toBe(4);
    expect(summary.duplicates).toBe(1);
  });

  it('an exact copy in another file and format is a duplicate, whatever its whitespace', async () => {
    const list = records(3, 6);
    await ingest(store, [ws.write('a.json', recordsFile(list))]);
    const summary = await ingest(store, [ws.write('b.jsonl', list.map((r) => JSON.stringify(r, null, 0).replace(/,"/g, ', "')).join('\n'))]);
    expect(summary.eventsLoaded).toBe(0);
    expect(summary.duplicates).toBe(3);
    expect(summary.conflicts).toBe(0);
  });

  it('two files in one run give the same store as the two files in two runs', async () => {
    const [x] = records(1, 7);
    const later = { ...x!, eventTime: '2026-03-05T00:00:00Z', eventName: 'StopLogging' };
    const one = ws.write('one.json', recordsFile([x!, ...records(2, 8)]));
    const two = ws.write('two.json', recordsFile([later, x!, ...records(2, 8)]));
    await ingest(store, [one, two]);
    const split = await memoryStore();
    try {
      await ingest(split, [one]);
      await ingest(split, [two]);
      expect(await contents(split)).toEqual(await contents(store));
      expect(await contents(store)).toHaveLength(4);
      const issues = `select input_id - (select min(input_id) from inputs) as i, record_index, kind from record_issues order by all`;
      expect(await split.all(issues)).toEqual(await store.all(issues));
    } finally {
      split.close();
    }
  });

  it('summaries stay exact after duplicates and conflicts', async () => {
    const list = records(5, 9);
    await ingest(store, [ws.write('a.json', recordsFile(list))]);
    await ingest(store, [ws.write('b.json', recordsFile([...list, { ...list[0]!, eventName: 'CreateUser' }]))]);
    const days = await store.one<{ n: number }>(`select sum(events)::bigint as n from event_days`);
    expect(days?.n).toBe(await count(store));
    const keys = await store.one<{ n: number }>(`select sum(events)::bigint as n from key_groups`);
    expect(keys?.n).toBe(await count(store, `select count(*) as n from events where access_key_id is not null`));
  });
});

describe('ingest integrity: times and nesting', () => {
  const badTimes = ['infinity', '-infinity', 'epoch', '2012-12-31T23:59:59Z', '0044-03-15T00:00:00 BC', '10000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'soon', '9999-12-31T23:59:59Z'];

  it('times outside 2013 .. now + 1 day are rejected one by one, and every command still reads the store', async () => {
    const list = records(badTimes.length + 1, 10);
    const file = ws.write('times.json', recordsFile(list.map((r, i) => (i < badTimes.length ? { ...r, eventTime: badTimes[i]! } : r))));
    const summary = await ingest(store, [file]);
    expect(summary.eventsLoaded).toBe(1);
    expect(summary.rejectedRecords).toBe(badTimes.length);
    const reasons = await store.all<{ record_index: number; detail: string }>(`select record_index, detail from record_issues where kind = 'rejected' order by record_index`);
    expect(reasons.map((r) => r.record_index)).toEqual(badTimes.map((_, i) => i));
    for (const r of reasons) expect(r.detail).toMatch(/^eventTime ".*" (is outside 2013-01-01 \.\. now \+ 1 day|is not a date and time)$/);
    const stats = await storeStats(store);
    expect(stats.events).toBe(1);
  });

  it('a record 20,000 levels deep is rejected without crashing; its neighbours load', async () => {
    const list = records(3, 11);
    const deep = `{"eventTime":"2026-03-02T10:00:00Z","eventName":"Deep","eventID":"deep-1","requestParameters":${'['.repeat(20_000)}1${']'.repeat(20_000)}}`;
    const text = recordsFile(list).replace('{"Records":[', `{"Records":[${deep},`);
    const summary = await ingest(store, [ws.write('deep.json.gz', text)]);
    expect(summary.eventsLoaded).toBe(3);
    expect(summary.warnings[0]?.reason).toBe('1 of 4 records left out: record 0: nested deeper than 64 levels');
  });

  it('a record 64 levels deep loads, 65 levels is rejected', async () => {
    const nested = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const text = `{"eventTime":"2026-03-02T10:00:00Z","eventName":"Ok","eventID":"ok-1","requestParameters":${nested(63)}}\n{"eventTime":"2026-03-02T10:00:00Z","eventName":"Deep","eventID":"deep-2","requestParameters":${nested(64)}}\n`;
    const summary = await ingest(store, [ws.write('depth.jsonl', text)]);
    expect(summary.eventsLoaded).toBe(1);
    expect(summary.rejectedRecords).toBe(1);
  });

  it('files measured shallow as they are read skip the search for deep records; the limit holds in each container', async () => {
    const nested = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const record = (id: string, levels: number) => `{"eventTime":"2026-03-02T10:00:00Z","eventName":"N","eventID":"${id}","requestParameters":${nested(levels)}}`;
    // 64 levels in a gzip Records file (66 with the container), in a plain array (65), alone (64): all load.
    const atLimit = [
      ws.write('limit.json.gz', `{"Records":[${record('gz-64', 63)}]}`),
      ws.write('limit-array.json', `[${record('array-64', 63)}]`),
      ws.write('limit-one.json', record('one-64', 63)),
      // Brackets inside a string are no depth: this file is shallow, and its record loads.
      ws.write('brackets.json.gz', `{"Records":[{"eventTime":"2026-03-02T10:00:00Z","eventName":"N","eventID":"str","requestParameters":{"s":"${'['.repeat(500)}\\\"${'{'.repeat(500)}"}}]}`),
    ];
    // One level more in each: rejected, by the exact walk the deeper files still get.
    const over = [ws.write('over.json.gz', `{"Records":[${record('gz-65', 64)}]}`), ws.write('over-array.json', `[${record('array-65', 64)}]`), ws.write('over-one.json', record('one-65', 64))];
    const depths = await Promise.all([...atLimit, ...over].map(async (path) => (await probeFile(path, { maxFileBytes: 2 ** 30 })).depth));
    expect(depths).toEqual([66, 65, 64, 4, 67, 66, 65]);
    expect([withinDepth(66, 'records', false), withinDepth(65, 'array', false), withinDepth(64, 'object', false)]).toEqual([true, true, true]);
    expect([withinDepth(67, 'records', false), withinDepth(66, 'array', false), withinDepth(65, 'object', false), withinDepth(3, 'records', true), withinDepth(undefined, 'jsonl', false)]).toEqual([false, false, false, false, false]);
    const summary = await ingest(store, [...atLimit, ...over]);
    expect(summary.eventsLoaded).toBe(4);
    expect(summary.rejectedRecords).toBe(3);
    const ids = await store.all<{ eventid: string }>(`select eventid from events order by eventid`);
    expect(ids.map((r) => r.eventid)).toEqual(['array-64', 'gz-64', 'one-64', 'str']);
    const reasons = await store.all<{ detail: string }>(`select distinct detail from record_issues where kind = 'rejected'`);
    expect(reasons).toEqual([{ detail: 'nested deeper than 64 levels' }]);
  });

  it('a shallow record with many brackets keeps its position (the load marks it for the exact walk and the mark is undone)', async () => {
    const list = records(3, 21);
    const wide = { ...list[1]!, requestParameters: { items: Array.from({ length: 300 }, (_, i) => ({ v: [i] })) } };
    const path = ws.write('wide.json.gz', recordsFile([list[0]!, wide, list[2]!]));
    const lines = ws.write('wide.jsonl', `${JSON.stringify({ ...wide, eventID: 'wide-line' })}\n`);
    const summary = await ingest(store, [path, lines]);
    expect(summary.eventsLoaded).toBe(4);
    expect(summary.rejectedRecords).toBe(0);
    const rows = await store.all<{ eventid: string; record_index: number | null }>('select eventid, record_index from events order by eventid');
    expect(rows).toEqual(
      [
        { eventid: list[0]!.eventID, record_index: 0 },
        { eventid: wide.eventID, record_index: 1 },
        { eventid: list[2]!.eventID, record_index: 2 },
        { eventid: 'wide-line', record_index: null },
      ].sort((a, b) => (String(a.eventid) < String(b.eventid) ? -1 : 1)),
    );
  });
});

describe('ingest integrity: one bad object never costs the file', () => {
  it('non-objects, nulls and broken CloudTrailEvent strings are named; the good records load', async () => {
    const list = records(2, 12);
    const text = JSON.stringify({ Records: [list[0], null, 7, 'text', [1], {}, list[1]] });
    const summary = await ingest(store, [ws.write('mixed.json', text)]);
    expect(summary.eventsLoaded).toBe(2);
    expect(summary.skipped).toEqual([]);
    expect(summary.warnings[0]?.reason).toBe(
      '5 of 7 records left out: record 1: not a JSON object (null, or a CloudTrailEvent string that is not JSON); record 2: not a JSON object (a JSON ubigint); record 3: not a JSON object (a JSON varchar); record 4: not a JSON object (a JSON array); record 5: no eventTime',
    );
  });

  it('JSON Lines with a bad line keep the others', async () => {
    const list = records(3, 13);
    const text = `${jsonLines(list.slice(0, 2))}{"eventTime":"infinity","eventName":"X"}\n${jsonLines(list.slice(2))}`;
    const summary = await ingest(store, [ws.write('x.jsonl', text)]);
    expect(summary.eventsLoaded).toBe(3);
    expect(summary.warnings[0]?.reason).toBe('1 of 4 records left out: a record: eventTime "infinity" is outside 2013-01-01 .. now + 1 day');
  });
});
