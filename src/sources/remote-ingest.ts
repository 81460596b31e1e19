/** What the remote sources have in common: their progress reports, their summaries, the options they pass to the bulk load. */
import type { IngestOptions, IngestSummary } from '../ingest/pipeline.js';
import type { Scope } from '../ingest/trail-layout.js';
import type { Store } from '../store/store.js';
import type { AwsOptions } from './aws.js';

/** Where a remote fetch is, for a progress bar: objects or pages done, events and bytes so far. */
export interface RemoteProgress {
  readonly phase: 'list' | 'download' | 'pages';
  readonly done: number;
  /** Known for downloads (after listing); unknown for paginated pulls. */
  readonly total?: number;
  readonly events: number;
  readonly bytes: number;
  /** For paginated pulls: the share of the time window covered so far (0..1), estimated from the events' times. */
  readonly fraction?: number;
}

/** Options every remote ingest takes. */
export interface RemoteIngestOptions extends AwsOptions {
  readonly store: Store;
  readonly scope?: Scope;
  /** The evidence cache folder (default `<store>.evidence`). */
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RemoteProgress) => void;
  /** Passed through to the bulk load (file size and batch limits, its progress). */
  readonly load?: Pick<IngestOptions, 'maxFileBytes' | 'batchBytes' | 'onProgress'>;
  /** "Now", for a window without --until. */
  readonly now?: Date;
}

/** Counters of the remote part of an ingest. */
export interface RemoteStats {
  /** API requests sent, retries included. */
  readonly requests: number;
  readonly retries: number;
  /** Objects (S3) or pages (Event History, CloudWatch Logs) fetched in this run. */
  readonly fetched: number;
  /** Objects already in the cache that were not fetched again. */
  readonly reused: number;
  readonly bytes: number;
  /** Failures recorded in inputs (denied, throttled, corrupt, missing). */
  readonly failed: number;
  readonly seconds: number;
}

/** An ingest summary with what the remote part did. */
export interface RemoteIngestSummary extends IngestSummary {
  readonly source: 's3' | 'event-history' | 'cloudwatch-logs';
  readonly remote: RemoteStats;
}
