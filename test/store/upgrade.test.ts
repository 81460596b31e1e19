import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/pipeline.js';
import { compactStore } from '../../src/store/compact.js';
import { storeStats } from '../../src/store/stats.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { segmentColumns, viewsSql } from '../../src/store/segments.js';
import { Store, toPlainRow, type Row } from '../../src/store/store.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.dispose());

/** Every column of `events`, rows by time, as plain values. */
async function eventsRows(store: Store): Promise<Row[]> {
  return (await store.all('select * from events order by eventtime, eventkey')).map(toPlainRow);
}

/** The stored segment columns of one event, as the loader wrote them. */
async function segmentRow(store: Store, eventkey: string): Promise<Row> {
  const row = await store.one('select * exclude (segment_id, segment_row) from event_rows where eventkey = ?', [eventkey]);
  return row!;
}

describe('a store written by an older release', () => {
  it('upgrades, takes a new segment, and reads every column of old and new rows back', async () => {
    const [a0, b] = records(2, 7, ['CreateAccessKey', 'RunInstances']);
    // A field release 1 derived on read and this release stores: the old row reads it from its record.
    const a = { ...a0!, userIdentity: { ...a0!.userIdentity, invokedBy: 'autoscaling.amazonaws.com' } };
    // The reference: both records loaded into a store made by this build.
    const reference = await Store.open(ws.path('reference.duckdb'));
    await ingestFiles({ paths: [ws.write('a.json', recordsFile([a]))], store: reference });
    await ingestFiles({ paths: [ws.write('b.json', recordsFile([b!]))], store: reference });
    const expected = await eventsRows(reference);
    expect(expected).toHaveLength(2);
    const oldRow = await segmentRow(reference, expected.find((r) => r['eventname'] === a.eventName)!['eventkey'] as string);
    reference.close();

    // A store as release 1 left it: migration 1 only, one event in segment 0.
    const path = ws.path('old.duckdb');
    const instance = await DuckDBInstance.create(path);
    const raw = await instance.connect();
    await raw.run('create table schema_version (version integer primary key, description varchar, applied_at timestamptz not null)');
    await raw.run(MIGRATIONS[0]!.sql);
    await raw.run(`insert into schema_version values (1, 'events, ingest runs, inputs manifest, digests', now())`);
    // The columns release 1's segment has (later releases store more, such as invoked_by).
    const oldColumns = new Set(((await raw.runAndReadAll(`select column_name from duckdb_columns() where table_name = 'event_rows_0'`)).getRowObjectsJS()).map((r) => String(r['column_name'])));
    const columns = Object.keys(oldRow).filter((c) => oldColumns.has(c));
    expect(columns.length).toBeLessThan(Object.keys(oldRow).length);
    await raw.run(
      `insert into event_rows_0 by name select ${columns.map((c) => `$${c}::${c === 'eventtime' ? 'timestamptz' : c === 'readonly' ? 'boolean' : c === 'input_id' ? 'bigint' : c === 'record_index' ? 'integer' : 'varchar'} as ${c}`).join(', ')}`,
      Object.fromEntries(columns.map((c) => [c, toParam(oldRow[c])])),
    );
    raw.closeSync();
    instance.closeSync();

    // This build opens it (migrations 2..latest), then loads the second record into a new segment.
    const store = await Store.open(path);
    await ingestFiles({ paths: [ws.path('b.json')], store, newSegmentBytes: 0 });
    const segments = await store.all<{ segment_id: number }>('select segment_id from segments order by segment_id');
    expect(segments.length).toBeGreaterThanOrEqual(2);

    const actual = await eventsRows(store);
    const ignore = (row: Row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'input_id' && k !== 'run_id'));
    expect(Object.keys(actual[0]!).sort()).toEqual(Object.keys(expected[0]!).sort());
    expect(actual.map(ignore)).toEqual(expected.map(ignore));
    expect(actual.find((r) => r['eventname'] === a.eventName)?.['invoked_by']).toBe('autoscaling.amazonaws.com');
    // The key CreateAccessKey handed out, stored now, read out of the old row's record.
    expect(actual.find((r) => r['eventname'] === a.eventName)?.['minted_key_id']).toBe((a.responseElements as { accessKey: { accessKeyId: string } }).accessKey.accessKeyId);
    // stats says how many events sit in the older segment (which reads requestParameters and the rest out of its records)
    const layout = (await storeStats(store)).layout;
    expect(layout.olderSegmentEvents).toBe(1);
    // the columns release 1 did not store, each named once
    expect(layout.olderSegmentColumns).toEqual(expect.arrayContaining(['invoked_by', 'requestparameters', 'minted_key_id']));
    expect(new Set(layout.olderSegmentColumns).size).toBe(layout.olderSegmentColumns.length);

    // Segments are combined by name: a segment whose columns are in another order reads the same.
    const ids = segments.map((s) => s.segment_id);
    const last = ids.at(-1)!;
    const reversed = Object.keys(oldRow).reverse();
    await store.run(`create table event_rows_99 as select ${reversed.join(', ')} from event_rows_${last}`);
    await store.run(`drop table event_rows_${last}`);
    await store.run(`update segments set segment_id = 99, table_name = 'event_rows_99' where segment_id = ?`, [last]);
    const views = [...ids.slice(0, -1), 99];
    await store.run(viewsSql(views, await segmentColumns(store, views)));
    expect((await eventsRows(store)).map(ignore)).toEqual(expected.map(ignore));
    store.close();

    // compact writes the old rows as this release stores them: the columns they lacked read out of their records.
    await compactStore(path);
    const compacted = await Store.open(path, { readOnly: true });
    expect((await eventsRows(compacted)).map(ignore)).toEqual(expected.map(ignore));
    expect(await compacted.one(`select invoked_by from event_rows_0 where eventname = ?`, [a.eventName ?? null])).toEqual({ invoked_by: 'autoscaling.amazonaws.com' });
    const stored = await compacted.one<{ stored: string | null; fromRecord: string | null }>(
      `select requestparameters::varchar as stored, json_extract(record, '$.requestParameters')::varchar as "fromRecord" from event_rows_0 where eventname = ?`,
      [a.eventName ?? null],
    );
    expect(stored!.stored).not.toBeNull();
    expect(stored!.stored).toBe(stored!.fromRecord);
    expect((await storeStats(compacted)).layout).toMatchObject({ olderSegmentEvents: 0, olderSegmentColumns: [] });
    compacted.close();
  });

  it('gives a column added to events since the store was written, read-only without writing the store, and for good once opened to write', async () => {
    const [created] = records(1, 3, ['CreateAccessKey']);
    const key = (created!.responseElements as { accessKey: { accessKeyId: string } }).accessKey.accessKeyId;
    const path = ws.path('views.duckdb');
    const store = await Store.open(path);
    await ingestFiles({ paths: [ws.write('k.json', recordsFile([created!]))], store });
    // As the release before minted_key_id left it: the segment without the column, views without it.
    await store.run('alter table event_rows_0 drop column minted_key_id');
    // (views over the segment as it is, with nothing read out of its records: what that release made)
    await store.run(viewsSql([0]));
    store.close();
    const columnsOf = async (db: string) => {
      const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
      const c = await instance.connect();
      const names = (await c.runAndReadAll(`select column_name from duckdb_columns() where table_name = 'events' and schema_name = 'main'`)).getRowObjectsJS().map((r) => String(r['column_name']));
      c.closeSync();
      instance.closeSync();
      return names;
    };
    expect(await columnsOf(path)).not.toContain('minted_key_id');
    const before = statSync(path);

    const reader = await Store.open(path, { readOnly: true });
    expect(await reader.one(`select minted_key_id from events`)).toEqual({ minted_key_id: key });
    // found the way analyze looks for the call that minted a key
    expect(await reader.one(`select count(*)::integer as n from events where list_contains([?], minted_key_id)`, [key])).toEqual({ n: 1 });
    expect((await storeStats(reader)).layout).toMatchObject({ olderSegmentEvents: 1, olderSegmentColumns: ['minted_key_id'] });
    reader.close();
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(await columnsOf(path)).not.toContain('minted_key_id');

    (await Store.open(path)).close();
    expect(await columnsOf(path)).toContain('minted_key_id');
  });
});

function toParam(value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return value as DuckDBValue;
}
