import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { count, ingest, sandbox } from '../helpers/store.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

/** Writes one good file beside the bad one, so each case also proves the good data still loads. */
function withGoodNeighbour(): string {
  return ws.write('good/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/good.json.gz', recordsFile(records(5, 99)));
}

async function expectSkipped(badPath: string, reason: RegExp): Promise<void> {
  withGoodNeighbour();
  const summary = await ingest(store, [ws.root]);
  expect(summary.skipped).toHaveLength(1);
  expect(summary.skipped[0]!.path).toBe(badPath);
  expect(summary.skipped[0]!.reason).toMatch(reason);
  expect(summary.eventsLoaded).toBe(5);
  expect(summary.status).toBe('completed-with-skips');
  expect(await count(store)).toBe(5);
  const recorded = await store.one<{ status: string; reason: string }>(`select status, reason from inputs where uri = ?`, [badPath]);
  expect(recorded?.status).toBe('skipped');
}

describe('ingest: bad input is reported and skipped, good input still loads', () => {
  it('truncated gzip', async () => {
    const whole = gzipSync(recordsFile(records(200, 3)));
    const bad = ws.writeRaw('bad/truncated.json.gz', whole.subarray(0, Math.floor(whole.length * 0.6)));
    await expectSkipped(bad, /truncated or corrupt gzip|malformed JSON/);
  });

  it('bytes that claim to be gzip but are not', async () => {
    const bad = ws.writeRaw('bad/garbage.json.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x01, 0x02, 0x03]));
    await expectSkipped(bad, /gzip/);
  });

  it('malformed JSON', async () => {
    const text = recordsFile(records(3, 4));
    const bad = ws.write('bad/malformed.json', `${text.slice(0, text.length - 40)},,}}`);
    await expectSkipped(bad, /malformed JSON/);
  });

  it('JSON that is not CloudTrail', async () => {
    const bad = ws.write('bad/package.json', JSON.stringify({ name: 'x', version: '1.0.0', dependencies: {} }));
    await expectSkipped(bad, /not CloudTrail/);
  });

  it('a Records array whose objects are not events', async () => {
    const bad = ws.write('bad/records-of-junk.json', JSON.stringify({ Records: [{ hello: 1 }, { world: 2 }] }));
    await expectSkipped(bad, /no CloudTrail events in it \(2 objects/);
  });

  it('an empty file', async () => {
    const bad = ws.write('bad/empty.json', '');
    await expectSkipped(bad, /empty file/);
  });

  it('an empty gzip file', async () => {
    const bad = ws.write('bad/empty.json.gz', '');
    await expectSkipped(bad, /empty file/);
  });

  it('a single record larger than the size limit', async () => {
    const huge = { ...records(1, 5)[0], requestParameters: { blob: 'x'.repeat(300_000) } };
    const bad = ws.write('bad/huge.json', JSON.stringify(huge));
    withGoodNeighbour();
    const summary = await ingest(store, [ws.root], { maxFileBytes: 200_000 });
    expect(summary.skipped.map((s) => s.path)).toEqual([bad]);
    expect(summary.skipped[0]!.reason).toMatch(/limit/);
    expect(summary.eventsLoaded).toBe(5);
  });

  it('a huge record inside a file within the limit loads', async () => {
    const big = { ...records(1, 6)[0], requestParameters: { blob: 'y'.repeat(2_000_000) } };
    const summary = await ingest(store, [ws.write('big.json.gz', recordsFile([big]))]);
    expect(summary.eventsLoaded).toBe(1);
    const row = await store.one<{ n: number }>(`select length(requestparameters->>'blob') as n from events`);
    expect(row?.n).toBe(2_000_000);
  });

  it('a gzip bomb is stopped at the size limit without inflating it whole', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"Records":['), Buffer.alloc(64 * 1024 * 1024, 0x20), Buffer.from(']}')]), { level: 9 });
    const bad = ws.writeRaw('bad/bomb.json.gz', bomb);
    withGoodNeighbour();
    const summary = await ingest(store, [ws.root], { maxFileBytes: 8 * 1024 * 1024 });
    expect(summary.skipped).toEqual([{ path: bad, reason: expect.stringMatching(/decompression bomb.*--max-file-mb/) }]);
    expect(summary.eventsLoaded).toBe(5);
  });

  it('a JSON Lines file with broken lines loads its good lines and names the broken ones by line', async () => {
    const [a, b, c] = records(3, 11).map((r) => JSON.stringify(r));
    const path = ws.write('lines/events.jsonl.gz', `\uFEFF${a}\n{"eventTime": "2026-03-02T00:00:00Z", oops\n\n${b}\n${c!.slice(0, 30)}\n${c}\n`);
    const summary = await ingest(store, [path]);
    expect(summary.skipped).toEqual([]);
    expect(summary.eventsLoaded).toBe(3);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]!.reason).toMatch(/^2 of 5 records left out: line 2: malformed JSON \(.+\); line 5: malformed JSON \(.+\)$/);
    expect(summary.warnings[0]!.reason).not.toContain('trailhound-load');
    const issues = await store.all<{ detail: string }>(`select detail from record_issues where kind = 'rejected' order by detail`);
    expect(issues.map((i) => i.detail.split(':')[0])).toEqual(['line 2', 'line 5']);
    const input = await store.one<{ status: string; loaded: number }>(`select status, loaded from inputs where uri = ?`, [path]);
    expect(input).toEqual({ status: 'loaded', loaded: 3 });
  });

  it('a JSON Lines file with no good line is skipped, its reason naming the file and not a temporary copy', async () => {
    const bad = ws.write('bad/broken.jsonl', '{"eventTime":"2026-03-02T00:00:00Z","eventName":"X"\n{nope\n');
    withGoodNeighbour();
    const summary = await ingest(store, [ws.root]);
    expect(summary.skipped.map((s) => s.path)).toEqual([bad]);
    expect(summary.skipped[0]!.reason).not.toMatch(/trailhound-load|input-\d/);
    expect(summary.eventsLoaded).toBe(5);
  });

  it('a gzip file of two members (a bomb, then a small member) is measured whole, not by its trailer', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"Records":['), Buffer.alloc(64 * 1024 * 1024, 0x20)]), { level: 9 });
    const tail = gzipSync(Buffer.from(' '.repeat(2000) + ']}'));
    const bad = ws.writeRaw('bad/two-members.json.gz', Buffer.concat([bomb, tail]));
    withGoodNeighbour();
    const summary = await ingest(store, [ws.root], { maxFileBytes: 8 * 1024 * 1024 });
    expect(summary.skipped).toEqual([{ path: bad, reason: expect.stringMatching(/over the 8388608-byte limit.*--max-file-mb/) }]);
    expect(summary.eventsLoaded).toBe(5);
  });

  it('a JSON Lines gzip file over the limit is stopped like any other', async () => {
    const line = JSON.stringify(records(1, 12)[0]);
    const bad = ws.writeRaw('bad/many.jsonl.gz', gzipSync(Buffer.from(`${line}\n`.repeat(Math.ceil((9 * 1024 * 1024) / line.length)))));
    withGoodNeighbour();
    const summary = await ingest(store, [ws.root], { maxFileBytes: 8 * 1024 * 1024 });
    expect(summary.skipped).toEqual([{ path: bad, reason: expect.stringMatching(/over the 8388608-byte limit/) }]);
  });

  it('identical empty files are each reported as empty, not as already ingested', async () => {
    const paths = [1, 2, 3].map((i) => ws.write(`empties/e${i}.json`, ''));
    const summary = await ingest(store, [ws.path('empties')]);
    expect(summary.alreadyIngested).toBe(0);
    expect(summary.skipped).toEqual(paths.map((path) => ({ path, reason: expect.stringMatching(/empty file/) })));
  });

  it('a file too big for the memory limit is skipped with what to do, and the others load', async () => {
    const big = { ...records(1, 13)[0], requestParameters: { blob: 'y'.repeat(120_000_000) } };
    const bad = ws.write('bad/big.json', recordsFile([big]));
    await store.run(`set memory_limit = '96MB'`);
    await expectSkipped(bad, /^does not fit in the memory limit while loading \(.+\); raise --memory-limit, or load this file on a larger machine$/);
  });

  it('a record whose eventTime cannot be read is left out with a warning', async () => {
    const list = records(3, 7);
    const broken = { ...list[0], eventTime: 'not a time' };
    const path = ws.write('mixed.json', recordsFile([broken, list[1]!, list[2]!]));
    const summary = await ingest(store, [path]);
    expect(summary.eventsLoaded).toBe(2);
    expect(summary.skipped).toEqual([]);
    expect(summary.warnings).toEqual([{ path, reason: '1 of 3 records left out: record 0: eventTime "not a time" is not a date and time' }]);
  });

  it('a path that does not exist', async () => {
    const summary = await ingest(store, [ws.path('missing-dir')]);
    expect(summary.skipped).toEqual([{ path: ws.path('missing-dir'), reason: expect.stringMatching(/no such file/) }]);
  });

  it('file names with glob characters are read literally', async () => {
    const a = ws.write('weird/a[1]*.json', recordsFile(records(2, 8)));
    ws.write('weird/a1x.json', recordsFile(records(3, 9)));
    const summary = await ingest(store, [ws.path('weird')]);
    expect(summary.eventsLoaded).toBe(5);
    const perFile = await store.one<{ loaded: number }>(`select loaded from inputs where uri = ?`, [a]);
    expect(perFile?.loaded).toBe(2);
  });

  it('several bad files among many good ones are each found', async () => {
    for (let i = 0; i < 12; i++) ws.write(`mix/good-${i}.json.gz`, recordsFile(records(4, 100 + i)));
    ws.write('mix/bad-a.json', '{"Records":[{"eventTime":');
    ws.write('mix/bad-b.json', '{"Records":[{"eventTime":"2026-03-02T00:00:00Z"}');
    const summary = await ingest(store, [ws.path('mix')]);
    expect(summary.eventsLoaded).toBe(48);
    expect(summary.skipped.map((s) => s.path.split('/').pop())).toEqual(['bad-a.json', 'bad-b.json']);
  });
});
