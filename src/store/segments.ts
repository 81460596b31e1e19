import { EVENT_COLUMNS, missingStoredColumns, segmentColumnsSql, viewProjection, type RecordCompression } from './columns.js';
import { listValue, type DuckDBValue } from '@duckdb/node-api';

/** What these helpers need of a store: the Store class's shape (store.ts uses this module, so it is not imported). */
interface Sql {
  run(sql: string, params?: readonly DuckDBValue[]): Promise<void>;
  all<T extends Record<string, unknown>>(sql: string, params?: readonly DuckDBValue[]): Promise<T[]>;
}

/**
 * Events are stored in segments: one table per large load (`event_rows_<n>`), joined by the
 * `event_rows` view. DuckDB writes a big insert into an empty table straight to its final
 * place, but rewrites rows appended to a table that already holds data at the next
 * checkpoint, which doubled the cost of every batch after the first.
 */
/** Rows per DuckDB row group: the unit `key_groups` points at (a row's group is its rowid divided by this). */
export const ROW_GROUP_ROWS = 122_880;

/** The table name of segment `id`. */
export function segmentTable(id: number): string {
  if (!Number.isInteger(id) || id < 0) throw new Error(`bad segment id ${id}`);
  return `event_rows_${id}`;
}

/** DDL of one segment table. */
export function segmentTableSql(id: number, compression: RecordCompression): string {
  return `create table ${segmentTable(id)} (${segmentColumnsSql(compression)}\n);`;
}

/**
 * The DuckDB file format new stores are written in: the oldest that compresses strings with
 * zstd (DuckDB 1.2 and later open it). A store file keeps the format it was created in.
 */
export const STORE_FORMAT = 'v1.2.0';

/**
 * How new segments of a database (the store's own unless named) store records: zstd if its
 * file format has it, else fsst.
 */
export async function recordCompression(store: Sql, database?: string): Promise<RecordCompression> {
  const [row] = await store.all<{ v: string | null }>(
    `select tags['storage_version']::varchar as v
     from duckdb_databases() where database_name = coalesce(?, current_database())`,
    [database ?? null],
  );
  return formatHasZstd(row?.v ?? null) ? 'zstd' : 'fsst';
}

/** What to do about a store in the layout before records were compressed. */
export const OLD_LAYOUT_HINT = '"trailhound compact" rewrites it compressed, about a quarter of the size';

/** Whether a file format tag ("v1.0.0+", "v1.2.0+", …) is at least v1.2.0. */
export function formatHasZstd(tag: string | null): boolean {
  const m = /^v(\d+)\.(\d+)/.exec(tag ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 1 || (major === 1 && minor >= 2);
}

/**
 * DDL of the `event_rows` view (all segments, with where each row lives) and the `events` view
 * over it. `columns` gives the columns of segments made by an older release (see
 * segmentColumns); a segment not in it has every stored column.
 */
export function viewsSql(ids: readonly number[], columns: ReadonlyMap<number, ReadonlySet<string>> = new Map(), temp = false): string {
  // By name, not by position: a segment made by another release (a column added, or in
  // another order) lines up with the rest instead of being read silently misaligned; a
  // stored column it lacks is read from its records.
  const union = ids
    .map((id) => `select *${missingColumnsSql(columns.get(id))}, ${id} as segment_id, rowid as segment_row from ${segmentTable(id)}`)
    .join('\nunion all by name\n');
  const kind = temp ? 'temp view' : 'view';
  return `create or replace ${kind} event_rows as
${union};

create or replace ${kind} events as
select
  * exclude (segment_id, segment_row),
  ${viewProjection().map(([name, expr]) => `${expr} as ${name}`).join(',\n  ')}
from event_rows;
`;
}

/**
 * `, expr as name` for each stored column a segment with the columns `present` lacks, read
 * out of its records (nothing when `present` is not known: a segment of this release).
 */
export function missingColumnsSql(present: ReadonlySet<string> | undefined): string {
  return present ? missingStoredColumns(present).map(([name, expr]) => `, ${expr} as ${name}`).join('') : '';
}

/** The columns of each segment of a database (the current one unless named), by segment id. */
export async function segmentColumns(store: Sql, ids: readonly number[], database?: string): Promise<Map<number, Set<string>>> {
  const rows = await store.all<{ table_name: string; column_name: string }>(
    `select table_name, column_name from duckdb_columns()
     where database_name = coalesce(?, current_database()) and schema_name = 'main' and list_contains(?, table_name)`,
    [database ?? null, listValue(ids.map(segmentTable))],
  );
  const out = new Map<number, Set<string>>();
  for (const id of ids) out.set(id, new Set(rows.filter((r) => r.table_name === segmentTable(id)).map((r) => r.column_name)));
  return out;
}

/**
 * Brings the views up to this release when the store's were made by an earlier one that had
 * fewer columns in `events` (a column added to the schema reaches older stores here; its
 * segments read it out of their records). A store opened read-only gets them as temporary
 * views, for this connection: nothing is written to it. Gives whether they were out of date.
 */
export async function refreshViews(store: Sql, readOnly: boolean): Promise<boolean> {
  const rows = await store.all<{ column_name: string }>(
    `select column_name from duckdb_columns() where database_name = current_database() and schema_name = 'main' and table_name = 'events'`,
  );
  const have = new Set(rows.map((r) => r.column_name));
  if (rows.length === 0 || EVENT_COLUMNS.every((c) => have.has(c.name))) return false;
  const ids = await segmentIds(store);
  await store.run(viewsSql(ids, await segmentColumns(store, ids), readOnly));
  return true;
}

/** The segments (of `ids`, else all) written by an earlier release: each lacks a column this one stores. */
export async function olderSegmentIds(store: Sql, ids?: readonly number[]): Promise<number[]> {
  return [...(await olderSegments(store, ids)).keys()];
}

/** The segments (of `ids`, else all) written by an earlier release, each with the stored columns it lacks. */
export async function olderSegments(store: Sql, ids?: readonly number[]): Promise<Map<number, string[]>> {
  const of = ids ?? (await segmentIds(store));
  const columns = await segmentColumns(store, of);
  const out = new Map<number, string[]>();
  for (const id of of) {
    const missing = missingStoredColumns(columns.get(id) ?? new Set()).map(([name]) => name);
    if (missing.length > 0) out.set(id, missing);
  }
  return out;
}

/** The segment ids, oldest first. */
export async function segmentIds(store: Sql): Promise<number[]> {
  return (await store.all<{ segment_id: number }>('select segment_id from segments order by segment_id')).map((r) => r.segment_id);
}

/** Creates a new, empty segment and rebuilds the views; call inside the batch's transaction. */
export async function createSegment(store: Sql, runId: string): Promise<number> {
  const ids = await segmentIds(store);
  const id = (ids.at(-1) ?? -1) + 1;
  await store.run(segmentTableSql(id, await recordCompression(store)));
  await store.run(`insert into segments values (?, ?, ?, now())`, [id, segmentTable(id), runId]);
  await store.run(viewsSql([...ids, id], await segmentColumns(store, ids)));
  return id;
}
