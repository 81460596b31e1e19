import { QueryError } from '../core/errors.js';
import type { Table } from '../report/tabular.js';
import { toPlainRow, type Store } from '../store/store.js';

/** Runs one ad-hoc SQL statement on a store opened read-only and returns its rows. */
export async function runQuery(store: Store, sql: string): Promise<Table> {
  if (!store.readOnly) throw new QueryError('ad-hoc queries run only on a store opened read-only');
  let reader;
  try {
    reader = await store.connection.runAndReadAll(sql);
  } catch (error) {
    const message = ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
    const hint = /read-only|read only/i.test(message) ? ' (trailhound query is read-only; it cannot change the store)' : '';
    throw new QueryError(`query failed: ${message}${hint}`, { cause: error });
  }
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(toPlainRow) };
}
