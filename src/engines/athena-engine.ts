import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope } from '../core/scope.js';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { checkProfile } from '../sources/aws.js';
import { AthenaRunner, statsLine, type AthenaSettings } from './athena-client.js';
import { runAthenaDetections, runAthenaDetectionsPulling } from './athena-detect.js';
import { ingestFromAthena, type AthenaIngestOptions, type AthenaIngestSummary, type AthenaPull } from './athena-ingest.js';
import { athenaSource } from './athena-source.js';
import type { AthenaTable } from './athena-table.js';
import type { DetectRun, Engine, EngineDetectResult } from './engine.js';

/** How an Athena engine reports and runs. */
export interface AthenaEngineOptions {
  /** Each query's label and cost, as it ends. */
  readonly onQuery?: (line: string) => void;
  /** Skipped detections, unconstrained partitions. */
  readonly onWarning?: (message: string) => void;
  /** Queries in flight at once (default 4). */
  readonly concurrency?: number;
  /** Run the name-limited detections locally on one pull of their events (fewer scans, same findings). */
  readonly pullCandidates?: boolean;
}

/** The organisation's CloudTrail table on Athena as an engine. */
export class AthenaEngine implements Engine {
  readonly name = 'athena' as const;

  private constructor(
    readonly runner: AthenaRunner,
    readonly table: AthenaTable,
    private readonly options: AthenaEngineOptions,
  ) {}

  /** Connects and reads the table's columns and partitioning (one Glue call). */
  static async open(settings: AthenaSettings, options: AthenaEngineOptions = {}): Promise<AthenaEngine> {
    checkProfile(settings);
    const runner = new AthenaRunner(settings, (label, stats) => options.onQuery?.(statsLine(label, stats)));
    try {
      return new AthenaEngine(runner, await runner.describeTable(), options);
    } catch (error) {
      runner.close();
      throw error;
    }
  }

  evidence(scope: Scope, signal?: AbortSignal): ReturnType<Engine['evidence']> {
    return athenaSource(this.runner, this.table, { window: scope, ...(signal ? { signal } : {}), ...(this.options.onWarning ? { onWarning: this.options.onWarning } : {}) });
  }

  async detect(run: DetectRun): Promise<EngineDetectResult> {
    if (run.indicators?.length) throw new UsageError('--ioc applies to the local store only; pull the events with ingest --athena, then detect locally');
    const options = {
      window: run.scope,
      sensitive: run.sensitive,
      catalog: run.catalog,
      ...(run.signal ? { signal: run.signal } : {}),
      ...(run.minSeverity ? { minSeverity: run.minSeverity } : {}),
      ...(this.options.concurrency ? { concurrency: this.options.concurrency } : {}),
      ...(this.options.onWarning ? { onWarning: this.options.onWarning } : {}),
    };
    if (!this.options.pullCandidates) {
      const { skipped, queries, dataScannedBytes, costUsd, findings: _findings, ...result } = await runAthenaDetections(this.runner, this.table, run.detections, options);
      return { ...result, extra: { skipped, athena: { queries, dataScannedBytes, costUsd } } };
    }
    const cacheDir = mkdtempSync(join(tmpdir(), 'trailhound-candidates-'));
    try {
      const { skipped, queries, dataScannedBytes, costUsd, candidates, findings: _findings, ...result } = await runAthenaDetectionsPulling(this.runner, this.table, run.detections, { ...options, cacheDir });
      return { ...result, extra: { skipped, athena: { queries, dataScannedBytes, costUsd, candidates } } };
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }

  /** Pulls events from the table into a local store (`ingest --athena`): Athena is then a source, and the store the engine. */
  pull(store: Store, scope: Scope, pull: AthenaPull, options: Pick<AthenaIngestOptions, 'cacheDir' | 'signal'> = {}): Promise<AthenaIngestSummary> {
    return ingestFromAthena({ store, runner: this.runner, table: this.table, window: scope, pull, ...options, ...(this.options.onWarning ? { onWarning: this.options.onWarning } : {}) });
  }

  totals(): string {
    const { queries, dataScannedBytes, costUsd } = this.runner.totals;
    return `athena: ${queries} ${queries === 1 ? 'query' : 'queries'}, ${(dataScannedBytes / 1024 ** 3).toFixed(2)} GB scanned in all, about $${costUsd.toFixed(costUsd < 1 ? 4 : 2)}`;
  }

  close(): void {
    this.runner.close();
  }
}
