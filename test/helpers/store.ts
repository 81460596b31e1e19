import { afterEach, beforeEach } from 'vitest';
import { ingestFiles, type IngestOptions, type IngestSummary } from '../../src/ingest/pipeline.js';
import { Store } from '../../src/store/store.js';
import { Workspace } from './workspace.js';

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

/** Gives each test a fresh workspace and in-memory store, handed over through `use`, and cleans both up after. */
export function sandbox(use: (ws: Workspace, store: Store) => void): void {
  let current: { ws: Workspace; store: Store } | undefined;
  beforeEach(async () => {
    current = { ws: new Workspace(), store: await memoryStore() };
    use(current.ws, current.store);
  });
  afterEach(() => {
    current?.store.close();
    current?.ws.dispose();
  });
}
