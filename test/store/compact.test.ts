import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource, fetchByKeyGroups } from '../../src/analyze/duckdb-source.js';
import { ingestFiles } from '../../src/ingest/pipeline.js';
import { keyGroupsCurrent } from '../../src/store/bulk-load.js';
import { compactingPath, compactStore } from '../../src/store/compact.js';
import { Store } from '../../src/store/store.js';
import { cli, cliStart, exited } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let db: string;

/** Every stored row, in a fixed order: what compacting must leave exactly as it was. */
async function rows(store: Store): Promise<string> {
  const all = await store.all<Record<string, unknown>>(`select * exclude (segment_id, segment_row) from event_rows order by eventkey, input_id, record_index`);
  return JSON.stringify(all, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

async function busiestKey(store: Store): Promise<string> {
  return (await store.one<{ k: string }>(`select access_key_id as k from events where access_key_id is not null group by 1 order by count(*) desc, 1 limit 1`))!.k;
}

beforeAll(async () => {
  ws = new Workspace();
  db = ws.path('many-segments.duckdb');
  const store = await Store.open(db);
  try {
    // Eight small ingests, each batch in a segment of its own: what months of incremental loads leave.
    for (let run = 0; run < 8; run++) {
      for (let f = 0; f < 3; f++) ws.write(`run${run}/f${f}.json.gz`, recordsFile(records(400, 1000 + run * 10 + f)));
      await ingestFiles({ store, paths: [ws.path(`run${run}`)], newSegmentBytes: 1 });
    }
  } finally {
    store.close();
  }
});
afterAll(() => ws.dispose());

describe('compact', () => {
  it('sorts in slices (as a small memory limit makes it) and writes the rows in the same order as one sort', async () => {
    const whole = ws.path('whole.duckdb');
    const sliced = ws.path('sliced.duckdb');
    copyFileSync(db, whole);
    copyFileSync(db, sliced);
    const one = await compactStore(whole);
    const many = await compactStore(sliced, { rowsPerSlice: 1_000 });
    expect(one.slices).toBe(1);
    expect(many.slices).toBeGreaterThan(1);
    const order = async (path: string) => {
      const store = await Store.open(path, { readOnly: true });
      try {
        return JSON.stringify(await store.all('select eventkey, input_id, record_index, access_key_id from event_rows order by segment_row'));
      } finally {
        store.close();
      }
    };
    expect(await order(sliced)).toBe(await order(whole));
    expect(many.busiestKeyRowGroupsAfter).toBe(one.busiestKeyRowGroupsAfter);
  });

  it('merges the segments into one and keeps every row, the key map, verify and analyze exactly as they were', async () => {
    const path = ws.path('compacted.duckdb');
    copyFileSync(db, path);
    let store = await Store.open(path);
    const before = await rows(store);
    const key = await busiestKey(store);
    const pivot = { keys: [key], ips: [], principals: [], sessions: [] };
    const analyzedBefore = JSON.stringify(await analyze(duckdbSource(store), pivot));
    const tables = await store.all(`select table_name, estimated_size from duckdb_tables() where table_name not like 'event_rows_%' and table_name not in ('key_groups', 'segments') order by 1`);
    store.close();
    const summary = await compactStore(path);
    expect(summary.segmentsBefore).toBeGreaterThan(1);
    expect(summary.segmentsAfter).toBe(1);
    expect(summary.events).toBe(8 * 3 * 400);
    expect(summary.busiestKeyRowGroupsAfter).toBeLessThanOrEqual(summary.busiestKeyRowGroupsBefore);
    store = await Store.open(path);
    try {
      expect(await rows(store)).toBe(before);
      // Every other table (inputs, runs, findings, schema version, …) came across whole.
      expect(await store.all(`select table_name, estimated_size from duckdb_tables() where table_name not like 'event_rows_%' and table_name not in ('key_groups', 'segments') order by 1`)).toEqual(tables);
      expect((await store.all('select * from segments')).length).toBe(1);
      expect(await keyGroupsCurrent(store)).toBe(true);
      // The map points at the rows' final ids: the lookup goes through it, not a full scan.
      expect(await fetchByKeyGroups(store, { keys: [key] })).toHaveLength(Number((await store.one<{ n: bigint }>(`select count(*) as n from events where access_key_id = ?`, [key]))!.n));
      expect(JSON.stringify(await analyze(duckdbSource(store), pivot))).toBe(analyzedBefore);
    } finally {
      store.close();
    }
    // verify derives each input's records digest again from the merged segment.
    const verify = JSON.parse(cli(['verify', '--db', path, '--format', 'json']).stdout) as { storedRecords: { inputs: number; modified: number; notRecorded: number } };
    expect(verify.storedRecords).toMatchObject({ inputs: 24, modified: 0, notRecorded: 0 });
    // A later ingest adds its segment beside the compacted one.
    ws.write('later/f.json.gz', recordsFile(records(50, 77)));
    const later = cli(['ingest', ws.path('later'), '--db', path, '--format', 'json']);
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout).eventsLoaded).toBe(50);
    const ids = JSON.parse(cli(['query', '--db', path, 'select count(*) as n, count(distinct input_id) as d from inputs', '--format', 'json']).stdout);
    expect(ids[0].n).toBe(ids[0].d);
    expect(ids[0].n).toBe(25);
  });

  it('prints a summary, and a kill -9 in the middle leaves the store as it was', async () => {
    const reference = await Store.open(db, { readOnly: true });
    const before = await rows(reference);
    reference.close();
    let killedBeforeCommit = false;
    for (const delay of [300, 150, 600, 75]) {
      const path = ws.path(`killed-${delay}.duckdb`);
      copyFileSync(db, path);
      const child = cliStart(['compact', '--db', path]);
      const done = exited(child);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await done;
      const store = await Store.open(path);
      try {
        expect(await rows(store)).toBe(before);
        if ((await store.all('select * from segments')).length > 1) killedBeforeCommit = true;
      } finally {
        store.close();
      }
      // The store still compacts after the kill.
      const again = cli(['compact', '--db', path, '--format', 'json']);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).segmentsAfter).toBe(1);
      // A partial file a kill left behind is cleared by the next compact.
      expect(existsSync(compactingPath(path))).toBe(false);
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
      if (killedBeforeCommit) break;
    }
    expect(killedBeforeCommit).toBe(true);
    const text = cli(['compact', '--db', ws.path('missing.duckdb')]);
    expect(text.code).toBe(4);
  });
});
