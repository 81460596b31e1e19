import { StatementType } from '@duckdb/node-api';
import { QueryError } from '../core/errors.js';
import type { Table } from '../core/table.js';
import { toPlainRow, type Store } from './store.js';

/** The statement kinds an ad-hoc query may be: a select (with, from, describe, show, summarize) or its plan. */
const READ_STATEMENTS: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

/** How many rows a query returns at most, unless told otherwise. */
export const QUERY_MAX_ROWS = 100_000;

/** The rows of a query, and whether more were left out. */
export interface QueryResult extends Table {
  /** True when the query had more rows than `maxRows`; only the first are in `rows`. */
  readonly truncated: boolean;
}

/**
 * Runs one ad-hoc SQL statement on a store opened read-only (and so sealed: no file, network
 * or extension access) and returns at most `maxRows` of its rows. The statement is parsed by
 * DuckDB first: several statements, or one that is not a select or an explain (COPY, EXPORT,
 * ATTACH, INSTALL, SET, PRAGMA, CALL…), are refused before anything runs.
 * @example await runQuery(store, 'select eventname, count(*) as n from events group by 1')
 */
export async function runQuery(store: Store, sql: string, maxRows = QUERY_MAX_ROWS): Promise<QueryResult> {
  if (!store.readOnly) throw new QueryError('ad-hoc queries run only on a store opened read-only');
  const statement = await prepareOne(store, sql);
  let reader;
  try {
    // Streamed and read only up to one row past the cap, so a huge result never sits in memory.
    reader = await statement.streamAndReadUntil(maxRows + 1);
  } catch (error) {
    throw failed(error);
  }
  const columns = reader.columnNames();
  const truncated = reader.currentRowCount > maxRows;
  const rows = reader.getRowsJS().slice(0, maxRows).map((values) => {
    const row: Record<string, unknown> = {};
    columns.forEach((c, i) => (row[c] = values[i]));
    return toPlainRow(row);
  });
  return { columns, rows, truncated };
}

async function prepareOne(store: Store, sql: string) {
  if (!sql.trim()) throw new QueryError('query failed: the query is empty; give one SQL statement, e.g. "select count(*) from events"');
  let extracted;
  try {
    extracted = await store.connection.extractStatements(sql);
  } catch (error) {
    throw failed(error);
  }
  if (extracted.count !== 1) throw new QueryError(`query failed: the query holds ${extracted.count} statements; trailhound query runs exactly one`);
  let statement;
  try {
    statement = await extracted.prepare(0);
  } catch (error) {
    throw failed(error);
  }
  if (!READ_STATEMENTS.has(statement.statementType)) {
    const kind = StatementType[statement.statementType] ?? String(statement.statementType);
    statement.destroySync();
    throw new QueryError(`query failed: trailhound query is read-only and runs only select statements (this one is ${kind}); it cannot write files, change the store or load extensions`);
  }
  return statement;
}

function failed(error: unknown): QueryError {
  const message = ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
  const hint = /read-only|read only|disabled by configuration|locked/i.test(message) ? ' (trailhound query is read-only: it reaches only the store, and cannot change it)' : '';
  return new QueryError(`query failed: ${message}${hint}`, { cause: error });
}
