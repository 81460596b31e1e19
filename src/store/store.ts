import { DuckDBInstance, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreError, StoreLockedError } from '../core/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { recordCompression, refreshViews, segmentTableSql, STORE_FORMAT, viewsSql } from './segments.js';

/** Bound parameters for a statement: positional (`?`) or named (`$name`). */
export type Params = readonly DuckDBValue[] | Record<string, DuckDBValue>;

/** Types for parameters whose type DuckDB cannot infer (an empty list, say). */
export type ParamTypes = Record<string, DuckDBType>;

/** A row as plain JS values: BIGINT as number (string if it does not fit), timestamps as UTC ISO-8601. */
export type Row = Record<string, unknown>;

/** Where the store lives when no --db is given: $TRAILHOUND_DB, else ./trailhound.duckdb. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['TRAILHOUND_DB'] || 'trailhound.duckdb';
}

/** How to open the store. */
export interface OpenOptions {
  /** Open read-only (several readers may share a store; no writer may be active). */
  readonly readOnly?: boolean;
  /** Fail if the store does not exist yet instead of creating it. */
  readonly mustExist?: boolean;
  /** DuckDB memory limit, e.g. "2GB". */
  readonly memoryLimit?: string;
  /** DuckDB worker threads; defaults to the number of cores. */
  readonly threads?: number;
  /**
   * Seal the store against SQL that reaches files, the network or extensions (see
   * {@link Store.seal}); a read-only open is always sealed. Commands that run user or rule
   * SQL on a writable store (detect) ask for it; ingest, which reads files, cannot.
   */
  readonly sealed?: boolean;
}

/** The DuckDB store: one file, one schema, opened by one writer at a time. */
export class Store {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  /** Opens (creating and migrating if needed) the store at `path`; ":memory:" gives a throw-away store. */
  static async open(path: string, options: OpenOptions = {}): Promise<Store> {
    const inMemory = path === ':memory:';
    const full = inMemory ? path : resolve(path);
    if (!inMemory && (options.readOnly || options.mustExist) && !existsSync(full)) {
      throw new StoreError(`no store at ${path}; run "trailhound ingest PATH --db ${path}" first, or pass --db to name an existing store`);
    }
    if (!inMemory) refuseForeignFile(path, full);
    // The format of a file created now (and of files compact writes); an existing file keeps its own.
    const config: Record<string, string> = { storage_compatibility_version: STORE_FORMAT };
    if (options.readOnly) config['access_mode'] = 'READ_ONLY';
    if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
    if (options.threads) config['threads'] = String(options.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(full, config);
    } catch (error) {
      throw translateOpenError(path, error);
    }
    const connection = await instance.connect();
    const store = new Store(full, instance, connection, options.readOnly === true);
    await store.run(`set TimeZone = 'UTC'`);
    if (options.readOnly || options.sealed) await store.seal();
    if (options.readOnly) {
      if ((await store.checkVersion()) < SCHEMA_VERSION && !inMemory) {
        // A store written by an older trailhound is upgraded once, then opened read-only again.
        store.close();
        (await Store.open(path, { ...options, readOnly: false })).close();
        return Store.open(path, options);
      }
    } else {
      await store.migrate();
    }
    await refreshViews(store, store.readOnly);
    return store;
  }

  /**
   * Cuts SQL off from everything but the store: no file or network access (COPY, read_csv,
   * ATTACH, glob), no extension installed or loaded, and the configuration locked so that no
   * statement can turn it back on. User queries, Sigma rules and MCP queries run on a sealed store.
   */
  async seal(): Promise<void> {
    const locked = await this.one<{ v: boolean }>(`select current_setting('lock_configuration') as v`);
    if (locked?.v) return;
    await this.run('set enable_external_access = false');
    await this.run('set autoinstall_known_extensions = false');
    await this.run('set autoload_known_extensions = false');
    await this.run('set lock_configuration = true');
  }

  /** Runs a statement, discarding any result. */
  async run(sql: string, params?: Params, types?: ParamTypes): Promise<void> {
    const t = performance.now();
    await this.connection.run(sql, params as never, types as never);
    debugSql(t, sql);
  }

  /** Runs a query and returns its rows as plain JS objects. */
  async all<T extends Row = Row>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    const t = performance.now();
    const reader = await this.connection.runAndReadAll(sql, params as never, types as never);
    const rows = reader.getRowObjectsJS().map((row) => toPlainRow(row) as T);
    debugSql(t, sql, rows.length);
    return rows;
  }

  /**
   * `all` for many rows: DuckDB writes each row as one JSON text, which JS parses, several
   * times faster than `all` on large results (the client converts cell by cell). Values are as
   * JSON has them: times as DuckDB's text, so the SQL casts what must come back typed (times
   * to epoch milliseconds, say); integers beyond 2^53 lose precision.
   */
  async allJson<T extends Row = Row>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    return (await this.firstColumn(`select to_json(q)::varchar as j from (${sql}) as q`, sql, params, types)).map((j) => JSON.parse(j) as T);
  }

  /** The first column of a query whose values are text (JSON written by DuckDB, say), as strings. */
  async texts(sql: string, params?: Params, types?: ParamTypes): Promise<string[]> {
    return this.firstColumn(sql, sql, params, types);
  }

  /** The first column of a query whose values are BLOBs (`encode(text)`, say), as bytes: no decoding into strings. */
  async bytes(sql: string, params?: Params, types?: ParamTypes): Promise<Uint8Array[]> {
    return this.firstColumn<Uint8Array>(sql, sql, params, types);
  }

  private async firstColumn<T = string>(sql: string, shown: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    const t = performance.now();
    const reader = await this.connection.runAndReadAll(sql, params as never, types as never);
    const values = (reader.getColumnsJS()[0] ?? []) as T[];
    debugSql(t, shown, values.length);
    return values;
  }

  /** Runs a query expected to return one row (or none). */
  async one<T extends Row = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Runs `fn` inside a transaction: committed if it resolves, rolled back if it throws. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.run('begin transaction');
    try {
      const result = await fn();
      await this.run('commit');
      return result;
    } catch (error) {
      await this.run('rollback').catch(() => undefined);
      throw error;
    }
  }

  /** Flushes the write-ahead log into the database file. */
  async checkpoint(): Promise<void> {
    if (!this.readOnly) await this.run('checkpoint');
  }

  /** Closes the connection and releases the file lock. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async schemaVersion(): Promise<number> {
    const table = await this.one(`select count(*) as n from information_schema.tables where table_name = 'schema_version'`);
    if (!table || table['n'] === 0) return 0;
    const row = await this.one<{ v: number | null }>(`select max(version) as v from schema_version`);
    return row?.v ?? 0;
  }

  /** Refuses a store that is not ours or is newer than this build; gives its schema version. */
  private async checkVersion(): Promise<number> {
    const version = await this.schemaVersion();
    if (version === 0) throw new StoreError(`${this.path} is not a trailhound store (no schema); pass --db to name a store made by "trailhound ingest"`);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`${this.path} has schema version ${version}, newer than this trailhound understands (${SCHEMA_VERSION}); upgrade trailhound`);
    }
    return version;
  }

  private async migrate(): Promise<void> {
    await this.run(`create table if not exists schema_version (version integer primary key, description varchar, applied_at timestamptz not null)`);
    const current = await this.schemaVersion();
    if (current > SCHEMA_VERSION) {
      throw new StoreError(`${this.path} has schema version ${current}, newer than this trailhound understands (${SCHEMA_VERSION}); upgrade trailhound`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await this.transaction(async () => {
        await this.run(migration.sql);
        await this.run(`insert into schema_version values (?, ?, now())`, [migration.version, migration.description]);
      });
    }
    // A new store's first segment, made empty by the frozen first migration, takes the current layout (columns and compression).
    if (current === 0) {
      const compression = await recordCompression(this);
      await this.transaction(async () => {
        await this.run('drop view events; drop view event_rows; drop table event_rows_0');
        await this.run(segmentTableSql(0, compression));
        await this.run(viewsSql([0]));
      });
    }
    // A run still marked running was cut off (Ctrl-C, kill -9): its committed batches stand, the rest never happened.
    await this.run(`update ingest_runs set status = 'interrupted' where status = 'running'`);
  }
}

/**
 * Whether `path` is a DuckDB database file: its header holds the magic "DUCK" at byte 8.
 * False for a missing or empty file (a store not created yet).
 */
export function isStoreFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(12);
    return readSync(fd, header, 0, 12, 0) === 12 && header.subarray(8, 12).toString('latin1') === 'DUCK';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Refuses a --db that exists and is something else (a log file, a CSV, a folder, a device):
 * DuckDB would open some of those as an empty in-memory database, and nothing would be saved.
 */
function refuseForeignFile(path: string, full: string): void {
  let info;
  try {
    info = statSync(full);
  } catch {
    return;
  }
  if (!info.isFile()) throw new StoreError(`${path} is not a file (a folder or a device); name a store file with --db, e.g. --db case.duckdb`);
  if (info.size > 0 && !isStoreFile(full)) {
    throw new StoreError(`${path} exists and is not a trailhound store (no DuckDB header); to ingest it, give it as an input ("trailhound ingest ${path} --db case.duckdb"), or name another --db`);
  }
}

function translateOpenError(path: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const lock = /Could not set lock on file[^:]*:\s*(.*)$/s.exec(message);
  if (lock) {
    const holder = /PID (\d+)/.exec(lock[1] ?? '');
    return new StoreLockedError(path, holder ? `process ${holder[1]}` : '', { cause: error });
  }
  if (/not a valid DuckDB database file|Failed to read database header|is not a DuckDB/i.test(message)) {
    return new StoreError(`${path} is not a DuckDB store; pass --db to name a trailhound store or a new file`, { cause: error });
  }
  return new StoreError(`cannot open store ${path}: ${message.split('\n')[0]}`, { cause: error });
}

/** Converts DuckDB's JS values into plain JSON-friendly values. */
export function toPlainRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = toPlain(value);
  return out;
}

function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === 'object') {
    const out: Row = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}

/** With TRAILHOUND_DEBUG_SQL set, each statement's time (and rows) and its start on stderr. */
function debugSql(started: number, sql: string, rows?: number): void {
  if (!process.env['TRAILHOUND_DEBUG_SQL']) return;
  const took = `${(performance.now() - started).toFixed(0)} ms${rows === undefined ? '' : `, ${rows} rows`}`;
  process.stderr.write(`[sql ${took}] ${sql.slice(0, rows === undefined ? 80 : 100).replace(/\s+/g, ' ')}\n`);
}
