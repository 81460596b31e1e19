import { ingestFiles, type IngestOptions, type IngestSummary } from '../../src/commands/ingest.js';
import { Store } from '../../src/store/store.js';

/** A fresh in-memory store (real DuckDB, never mocked). */
export async function memoryStore(): Promise<Store> {
  return Store.open(':memory:');
}

/** Ingests paths into `store` with defaults suited to tests. */
export async function ingest(store: Store, paths: readonly string[], options: Partial<IngestOptions> = {}): Promise<IngestSummary> {
  return ingestFiles({ store, paths, ...options });
}

/** Counts rows of a query's first column. */
export async function count(store: Store, sql = 'select count(*) as n from events'): Promise<number> {
  const row = await store.one<{ n: number }>(sql);
  return row?.n ?? 0;
}
