/**
 * `trailhound compact`: the store written again into a fresh file, its segments merged into
 * one whose rows are ordered by access key and time (a key's events then sit in a few row
 * groups, which is what `analyze --key` reads), without the blocks that deleted duplicates
 * and earlier loads left free. The original file is not touched until the new one is
 * complete and checked; then the new one is renamed over it. A kill at any point leaves
 * either the old store or the new one, whole.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { StoreError } from '../core/errors.js';
import { sizeBytes } from '../core/size.js';
import type { RecordCompression } from './columns.js';
import { missingColumnsSql, recordCompression, ROW_GROUP_ROWS, segmentColumns, segmentTable, segmentTableSql, STORE_FORMAT, viewsSql } from './segments.js';
import { Store } from './store.js';

/** What compacting did. */
export interface CompactSummary {
  readonly events: number;
  readonly segmentsBefore: number;
  readonly segmentsAfter: number;
  /** The row groups of the access key spread over the most of them: what its lookup reads. */
  readonly busiestKeyRowGroupsBefore: number;
  readonly busiestKeyRowGroupsAfter: number;
  /** The store file with its write-ahead log, in bytes. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** How the records were stored before (fsst in a store made before the compressed layout; some segments may be) and after. */
  readonly recordsBefore: RecordCompression;
  readonly recordsAfter: RecordCompression;
  /** The slices the rows were sorted in, each within the memory limit. */
  readonly slices: number;
  readonly seconds: number;
}

// The content of every row, whatever the order: compared between the old file and the new.
const fingerprint = (db: string) =>
  `select count(*)::bigint as n, coalesce(sum(hash(record, input_id, record_index, eventkey, eventtime, access_key_id))::varchar, '0') as h from ${db}.event_rows`;
const busiestKey = (db: string) => `select coalesce(max(n), 0)::bigint as n from (select count(*) as n from ${db}.key_groups group by access_key_id)`;

/** How to compact. */
export interface CompactOptions {
  /** DuckDB's memory limit (e.g. "4GB"); the rows are sorted in slices that fit in it. */
  readonly memoryLimit?: string;
  /** Rows per sorted slice, instead of what the memory limit allows (tests). */
  readonly rowsPerSlice?: number;
}

/** The temporary file a compact of `path` writes (removed when a killed compact left it). */
export const compactingPath = (path: string) => `${path}.compacting`;

/**
 * Writes the store at `path` again as described above, and gives what it did. Holds the
 * store's lock while it works; opens and closes the store itself.
 */
export async function compactStore(path: string, options: CompactOptions = {}): Promise<CompactSummary> {
  const { memoryLimit } = options;
  const started = performance.now();
  const target = compactingPath(path);
  rmSync(target, { force: true });
  rmSync(`${target}.wal`, { force: true });
  // Bounded: the rows are sorted in slices that fit the limit (see sortSlices).
  const store = await Store.open(path, { mustExist: true, ...(memoryLimit ? { memoryLimit } : {}) });
  let summary: Omit<CompactSummary, 'bytesAfter' | 'seconds'>;
  try {
    await store.checkpoint();
    const bytesBefore = storeBytes(path);
    const recordsBefore = await recordCompression(store);
    const source = (await store.one<{ db: string }>('select current_database() as db'))!.db;
    // An alias no store file can be named after (DuckDB names a database after its file).
    const alias = `compact_${randomBytes(6).toString('hex')}`;
    await store.run(`attach ${sqlString(target)} as ${alias} (storage_version '${STORE_FORMAT}')`);
    try {
      // DuckDB gives its limit as text ("11.7 GiB"), whether set here or its default.
      const limit = await store.one<{ v: string }>(`select current_setting('memory_limit') as v`);
      const perSlice = options.rowsPerSlice !== undefined ? () => options.rowsPerSlice! : rowsPerSlice(sizeBytes(limit?.v ?? '') ?? 1024 ** 3);
      summary = { ...(await rewrite(store, quoted(source), source, alias, bytesBefore, perSlice)), recordsBefore };
    } finally {
      await store.run(`use ${quoted(source)}`);
      await store.run(`detach ${alias}`);
    }
  } catch (error) {
    store.close();
    rmSync(target, { force: true });
    rmSync(`${target}.wal`, { force: true });
    throw error;
  }
  const before = statSync(path);
  store.close();
  // Nothing may have written the store between the close and the rename; if it did, keep it.
  const after = statSync(path);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    rmSync(target, { force: true });
    throw new StoreError(`${path} changed while it was being compacted (another process wrote it); nothing was replaced: run compact again`);
  }
  renameSync(target, path);
  rmSync(`${path}.wal`, { force: true });
  return { ...summary, bytesAfter: storeBytes(path), seconds: Math.round((performance.now() - started) / 10) / 100 };
}

async function rewrite(store: Store, source: string, sourceName: string, target: string, bytesBefore: number, perSlice: (averageRecord: number) => number): Promise<Omit<CompactSummary, 'bytesAfter' | 'seconds' | 'recordsBefore'>> {
  const old = await store.one<{ n: bigint; h: string }>(fingerprint(source));
  const segments = await store.all<{ segment_id: number }>(`select segment_id from ${source}.segments order by 1`);
  const columns = await segmentColumns(store, segments.map((s) => s.segment_id), sourceName);
  // Every segment as this release stores it: a column an older release did not store is read out of the record.
  const rowsOf = segments
    .map(({ segment_id: id }) => `select *${missingColumnsSql(columns.get(id) ?? new Set())} from ${source}.main.${segmentTable(id)}`)
    .join('\nunion all by name\n');
  const busiestBefore = Number((await store.one<{ n: bigint }>(busiestKey(source)))?.n ?? 0);
  const recordsAfter = await recordCompression(store, target);
  let sliceCount = 0;
  // Row ids follow insertion order only when it is preserved; the key map depends on them.
  const ordered = await store.one<{ v: boolean }>(`select current_setting('preserve_insertion_order') as v`);
  await store.run('set preserve_insertion_order = true');
  try {
    await store.run(`copy from database ${source} to ${target} (schema)`);
    await store.run(`use ${target}`);
    const segmentTables = new Set(segments.map((s) => segmentTable(s.segment_id)));
    const tables = await store.all<{ name: string }>(
      `select table_name as name from duckdb_tables() where database_name = ? and schema_name = 'main' order by 1`,
      [target],
    );
    await store.transaction(async () => {
      for (const { name } of tables) {
        if (segmentTables.has(name)) await store.run(`drop table ${quoted(name)} cascade`);
        else if (name !== 'key_groups' && name !== 'segments') await store.run(`insert into ${quoted(name)} select * from ${source}.main.${quoted(name)}`);
      }
      await store.run(segmentTableSql(0, recordsAfter));
      // In slices of the final order, each sorted alone: one sort of every row and its record does not spill (it ran out of memory at 10M events).
      const slices = await sortSlices(store, rowsOf, perSlice);
      sliceCount = slices.length;
      for (const slice of slices) {
        await store.run(
          `insert into ${segmentTable(0)} by name
           select * from (${rowsOf}) where ${slice.where}
           order by access_key_id nulls last, eventtime, eventkey, input_id, record_index`,
          slice.params,
        );
      }
      await store.run(`insert into segments values (0, ?, null, now())`, [segmentTable(0)]);
      await store.run(viewsSql([0]));
    });
    // The key map after the commit: a row's id is final only then (inside the transaction the
    // rows had provisional ids, and a map built on them sent every key lookup to a full scan).
    // The file is still the scratch copy, removed if anything below fails.
    await store.transaction(async () => {
      await store.run(
        `insert into key_groups
         select access_key_id, segment_id, segment_row // ${ROW_GROUP_ROWS}, count(*)
         from event_rows where access_key_id is not null group by all order by access_key_id`,
      );
      await store.run(`update key_groups_state set through_input = (select coalesce(max(input_id), 0) from inputs)`);
      const copy = await store.one<{ n: bigint; h: string }>(fingerprint(target));
      if (copy?.n !== old?.n || copy?.h !== old?.h) throw new StoreError('compact: the new file does not hold the same rows as the store; the store was left as it was');
    });
    await store.run(`checkpoint ${target}`);
  } finally {
    await store.run(`set preserve_insertion_order = ${ordered?.v === false ? 'false' : 'true'}`);
  }
  return {
    events: Number(old?.n ?? 0),
    segmentsBefore: segments.length,
    segmentsAfter: 1,
    busiestKeyRowGroupsBefore: busiestBefore,
    busiestKeyRowGroupsAfter: Number((await store.one<{ n: bigint }>(busiestKey(target)))?.n ?? 0),
    bytesBefore,
    recordsAfter,
    slices: sliceCount,
  };
}

/** A slice of the rows in the final order: a condition on the key (or, for rows without one, the time). */
interface Slice {
  readonly where: string;
  readonly params: Record<string, string | null>;
}

/**
 * Cuts the rows into slices of about `rowsPer(average record size)` rows, in the
 * order compact writes them: keys in ranges (a key's rows all in one slice), then the rows
 * without a key in time ranges. Bounds are bound as parameters (keys are log content).
 */
async function sortSlices(store: Store, rows: string, rowsPer: (averageRecord: number) => number): Promise<Slice[]> {
  const sample = await store.one<{ avg: number | null }>(`select avg(strlen(record::varchar))::double as avg from (select record from (${rows}) limit 10000)`);
  const perSlice = Math.max(1, rowsPer(sample?.avg ?? 0));
  const counts = await store.one<{ keyed: bigint; unkeyed: bigint }>(
    `select count(access_key_id)::bigint as keyed, (count(*) - count(access_key_id))::bigint as unkeyed from (${rows})`,
  );
  const slices: Slice[] = [];
  const ranged = async (column: string, where: string, n: number, last: string) => {
    const parts = Math.ceil(n / perSlice);
    const fractions = Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);
    const bounds =
      fractions.length === 0
        ? []
        : [...new Set((await store.one<{ b: string[] }>(`select quantile_disc(${column}, [${fractions.join(', ')}])::varchar[] as b from (${rows}) where ${where}`))?.b ?? [])];
    let lo: string | null = null;
    for (const hi of [...bounds, null]) {
      const cond = [where, lo === null ? null : `${column} > $lo::${last}`, hi === null ? null : `${column} <= $hi::${last}`].filter(Boolean).join(' and ');
      slices.push({ where: cond, params: { ...(lo === null ? {} : { lo }), ...(hi === null ? {} : { hi }) } });
      lo = hi;
    }
  };
  if (Number(counts?.keyed ?? 0) > 0) await ranged('access_key_id', 'access_key_id is not null', Number(counts!.keyed), 'varchar');
  if (Number(counts?.unkeyed ?? 0) > 0) {
    await ranged('eventtime', 'access_key_id is null and eventtime is not null', Number(counts!.unkeyed), 'timestamptz');
    slices.push({ where: 'access_key_id is null and eventtime is null', params: {} });
  }
  return slices;
}

/** Rows of records of the given average size that sort in about a sixth of `memoryBytes`. */
function rowsPerSlice(memoryBytes: number): (averageRecord: number) => number {
  return (averageRecord) => Math.max(1_000, Math.floor(memoryBytes / 6 / Math.max(averageRecord, 256)));
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

function storeBytes(path: string): number {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return size(path) + size(`${path}.wal`);
}
