import { UsageError } from '../core/errors.js';
import { duckdbSource } from '../analyze/duckdb-source.js';
import { detect } from '../detect/runner.js';
import { prepareIocTables } from '../enrich/ioc.js';
import type { Store } from '../store/store.js';
import type { DetectRun, Engine, EngineDetectResult } from './engine.js';

/** The local store as an engine. The store is opened by the caller (read-only, or sealed for detect) and closed with the engine. */
export class DuckDbEngine implements Engine {
  readonly name = 'duckdb' as const;

  constructor(readonly store: Store) {}

  evidence(): ReturnType<Engine['evidence']> {
    // The pivot's own window narrows each query; the store is searched whole otherwise.
    return duckdbSource(this.store);
  }

  async detect(run: DetectRun): Promise<EngineDetectResult> {
    if (run.scope.regions?.length || run.scope.accounts?.length) {
      throw new UsageError('--region and --account narrow an Athena run (its partitions); the local store is searched whole');
    }
    if (run.indicators?.length) await prepareIocTables(this.store, run.indicators);
    const result = await detect(this.store, run.detections, {
      sensitive: run.sensitive,
      catalog: run.catalog,
      ...(run.scope.since ? { since: run.scope.since } : {}),
      ...(run.scope.until ? { until: run.scope.until } : {}),
      ...(run.minSeverity ? { minSeverity: run.minSeverity } : {}),
    });
    return { ...result, extra: {} };
  }

  totals(): undefined {
    return undefined;
  }

  close(): void {
    this.store.close();
  }
}
