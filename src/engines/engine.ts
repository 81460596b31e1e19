/**
 * Where detections and pivots run: the local DuckDB store or the organisation's CloudTrail
 * table on Athena. A command opens one engine (src/cli/engine-options.ts) and works through
 * this interface, so its body does not know which engine answers; what differs between the
 * engines (the cost of a run, what one of them cannot do) is said by the engine itself.
 */
import type { EvidenceSource } from '../analyze/source.js';
import type { Scope } from '../core/scope.js';
import type { Detection, SensitiveEvent, Severity } from '../detect/catalog.js';
import type { DetectSummary } from '../detect/runner.js';
import type { Indicator } from '../enrich/ioc.js';

/** One detect run: the detections and the reference data they read, over a scope. */
export interface DetectRun {
  readonly detections: readonly Detection[];
  /** The sensitive-calls catalog, for the detections that read `sensitive_events`. */
  readonly sensitive: readonly SensitiveEvent[];
  /** The whole catalog, which decides which sensitive calls are covered. */
  readonly catalog: readonly Detection[];
  readonly scope: Scope;
  readonly minSeverity?: Severity;
  /** Indicators for the `ioc_match` detection. */
  readonly indicators?: readonly Indicator[];
  /** Aborting stops the run (on Athena, the running queries). */
  readonly signal?: AbortSignal;
}

/** A run's alerts and match count, and what the engine adds to the JSON output (Athena: queries, bytes scanned, cost, skipped detections). */
export interface EngineDetectResult extends DetectSummary {
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface Engine {
  readonly name: 'duckdb' | 'athena';
  /** The evidence pivots read (analyze), limited to the scope. */
  evidence(scope: Scope, signal?: AbortSignal): EvidenceSource;
  /** Runs detections; on the local store the findings are stored as a new run. */
  detect(run: DetectRun): Promise<EngineDetectResult>;
  /** One line on what the engine's work cost, for stderr; undefined when it cost nothing to say. */
  totals(): string | undefined;
  close(): void;
}
