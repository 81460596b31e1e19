/**
 * One Athena query, start to finish: StartQueryExecution, GetQueryExecution polled with
 * backoff until the query ends, GetQueryResults paged; FAILED and CANCELLED reported with
 * Athena's reason; StopQueryExecution when the caller aborts (Ctrl-C) or the query scans
 * more than allowed. Every finished query reports the data it scanned and what that costs.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
  type GetQueryResultsCommandOutput,
} from '@aws-sdk/client-athena';
import { ExitCode, TrailhoundError } from '../core/errors.js';
import { classifyAwsError, clientConfig, homeRegion, redact, sleep, withRetries, type AwsFailure, type AwsOptions } from '../sources/aws.js';
import { pages, type PageRequest } from '../sources/pages.js';
import { partitioningFrom, type AthenaTable } from './athena-table.js';

/** Where queries run and where their results go. */
export interface AthenaSettings extends AwsOptions {
  readonly database: string;
  readonly table: string;
  /** Data catalog (default AwsDataCatalog). */
  readonly catalog?: string;
  /** Workgroup (default: primary). */
  readonly workgroup?: string;
  /** s3:// prefix for query results; optional when the workgroup sets one. */
  readonly outputLocation?: string;
  /** Stop a query once Athena reports more than this many bytes scanned. */
  readonly maxScanBytes?: number;
  /** Poll delays: first, growth factor, longest (ms). Default 250, 1.5, 3000. */
  readonly poll?: { readonly initialMs: number; readonly factor: number; readonly maxMs: number };
}

/** What a query cost. */
export interface QueryStats {
  readonly queryExecutionId: string;
  readonly state: string;
  readonly dataScannedBytes: number;
  readonly engineMillis: number;
  /** At Athena's list price: $5 per TB scanned, rounded up to the MB, 10 MB minimum. */
  readonly costUsd: number;
}

/** The rows of a finished query: column names and text values (null for SQL NULL). */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Readonly<Record<string, string | null>>>;
  readonly stats: QueryStats;
}

/** Options of one query. */
export interface QueryOptions {
  /** Values for the `?` placeholders, as SQL literals (`'text'`, `42`). */
  readonly parameters?: readonly string[];
  /** Aborting stops the query on Athena (StopQueryExecution) and rejects with AthenaCancelledError. */
  readonly signal?: AbortSignal;
  /** A short name for messages, e.g. the detection id. */
  readonly label?: string;
}

/** A query Athena reported as FAILED (its reason included), or an Athena call that failed. */
export class AthenaQueryError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('ATHENA_QUERY_FAILED', message, ExitCode.partial, options);
  }
}

/** A query stopped: by the caller (Ctrl-C), by someone else (CANCELLED), or by the scan limit. */
export class AthenaCancelledError extends TrailhoundError {
  constructor(message: string) {
    super('ATHENA_CANCELLED', message, 130 as ExitCode);
  }
}

/** A query refused or stopped by --max-scan-gb. */
export class ScanLimitError extends TrailhoundError {
  constructor(message: string) {
    super('ATHENA_SCAN_LIMIT', message, ExitCode.usage);
  }
}

const MB = 1024 * 1024;
const TB = 1024 * 1024 * MB;

/** Athena's price of scanning `bytes`: $5 per TB, rounded up to the MB, with a 10 MB minimum. */
export function queryCost(bytes: number): number {
  const billed = Math.max(10 * MB, Math.ceil(bytes / MB) * MB);
  return (billed / TB) * 5;
}

/** Bytes as a short human figure (KB, MB, GB, TB; powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** One line on what a query scanned and cost, for stderr. */
export function statsLine(label: string, stats: QueryStats): string {
  const cost = `$${stats.costUsd.toFixed(stats.costUsd < 1 ? 4 : 2)}`;
  return `athena: ${label}: ${stats.state.toLowerCase()}, scanned ${formatBytes(stats.dataScannedBytes)}, about ${cost} (query ${stats.queryExecutionId}, ${(stats.engineMillis / 1000).toFixed(1)} s)`;
}

/** Text from Athena (a reason may quote a log value) with control characters shown as \\xNN. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Runs queries on one Athena workgroup and database. */
export class AthenaRunner {
  readonly client: AthenaClient;
  readonly region: string;
  /** Totals over every query this runner ran. */
  readonly totals = { queries: 0, dataScannedBytes: 0, costUsd: 0 };

  constructor(
    readonly settings: AthenaSettings,
    private readonly onStats: (label: string, stats: QueryStats) => void = () => undefined,
  ) {
    this.region = homeRegion(settings);
    // Athena calls are retried by withRetries below; the SDK's own retries stay off.
    this.client = new AthenaClient(clientConfig(settings, this.region));
  }

  /** The catalog name queries use. */
  get catalog(): string {
    return this.settings.catalog ?? 'AwsDataCatalog';
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }

  private async call<T>(what: string, permission: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const attempt = await withRetries(fn, { permission, maxAttempts: this.settings.maxAttempts ?? 5, backoffMs: this.settings.backoffMs ?? 500, ...(signal ? { signal } : {}) });
    if (attempt.ok) return attempt.value;
    throw this.failed(what, attempt.failure, attempt.error);
  }

  private failed(what: string, failure: AwsFailure, error: unknown): AthenaQueryError {
    const hint = /output location/i.test(failure.reason) ? '; pass --athena-output s3://bucket/prefix/ or use a workgroup that sets one' : '';
    return new AthenaQueryError(`Athena ${what} failed in ${this.region}: ${printable(failure.reason)}${hint}`, { cause: error });
  }

  /** Reads the table's columns and partition keys (GetTableMetadata) to know how to constrain it. */
  async describeTable(): Promise<AthenaTable> {
    const out = await this.call('GetTableMetadata', 'athena:GetTableMetadata and glue:GetTable', () =>
      this.client.send(new GetTableMetadataCommand({ CatalogName: this.catalog, DatabaseName: this.settings.database, TableName: this.settings.table })),
    );
    const meta = out.TableMetadata;
    const keys = (meta?.PartitionKeys ?? []).map((k) => (k.Name ?? '').toLowerCase());
    return {
      catalog: this.catalog,
      database: this.settings.database,
      table: this.settings.table,
      columns: [...(meta?.Columns ?? []).map((c) => (c.Name ?? '').toLowerCase()), ...keys],
      partitioning: partitioningFrom(keys, meta?.Parameters ?? {}),
    };
  }

  /** Runs one query to the end and returns its rows. */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const label = options.label ?? 'query';
    const { signal } = options;
    if (signal?.aborted) throw new AthenaCancelledError(`${label}: interrupted before it started`);
    const started = await this.call('StartQueryExecution', 'athena:StartQueryExecution', () =>
      this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          QueryExecutionContext: { Catalog: this.catalog, Database: this.settings.database },
          ...(this.settings.workgroup ? { WorkGroup: this.settings.workgroup } : {}),
          ...(this.settings.outputLocation ? { ResultConfiguration: { OutputLocation: this.settings.outputLocation } } : {}),
          ...(options.parameters?.length ? { ExecutionParameters: [...options.parameters] } : {}),
        }),
      ),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new AthenaQueryError(`Athena StartQueryExecution in ${this.region} returned no query id`);
    const execution = await this.wait(id, label, signal);
    const stats = this.statsOf(id, execution);
    if (execution.Status?.State !== 'SUCCEEDED') {
      this.record(label, stats);
      const reason = printable(redact(execution.Status?.StateChangeReason ?? execution.Status?.AthenaError?.ErrorMessage ?? 'no reason given').split('\n')[0]!);
      if (execution.Status?.State === 'CANCELLED') throw new AthenaCancelledError(`${label}: query ${id} was cancelled on Athena (${reason})`);
      throw new AthenaQueryError(`${label}: query ${id} failed on Athena: ${reason}`);
    }
    const result = await this.results(id, signal);
    this.record(label, stats);
    return { ...result, stats };
  }

  private record(label: string, stats: QueryStats): void {
    this.totals.queries++;
    this.totals.dataScannedBytes += stats.dataScannedBytes;
    this.totals.costUsd += stats.costUsd;
    this.onStats(label, stats);
  }

  private statsOf(id: string, execution: QueryExecution): QueryStats {
    const bytes = execution.Statistics?.DataScannedInBytes ?? 0;
    return {
      queryExecutionId: id,
      state: execution.Status?.State ?? 'UNKNOWN',
      dataScannedBytes: bytes,
      engineMillis: execution.Statistics?.EngineExecutionTimeInMillis ?? 0,
      // Failed queries are not billed; cancelled ones are, for what they scanned.
      costUsd: execution.Status?.State === 'FAILED' ? 0 : queryCost(bytes),
    };
  }

  private async stop(id: string): Promise<void> {
    await this.call('StopQueryExecution', 'athena:StopQueryExecution', () => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })));
  }

  /** Polls until the query leaves QUEUED/RUNNING; stops it on abort or when it scans too much. */
  private async wait(id: string, label: string, signal: AbortSignal | undefined): Promise<QueryExecution> {
    const poll = this.settings.poll ?? { initialMs: 250, factor: 1.5, maxMs: 3000 };
    let delay = poll.initialMs;
    for (;;) {
      if (signal?.aborted) {
        await this.stop(id);
        throw new AthenaCancelledError(`${label}: interrupted; query ${id} stopped on Athena`);
      }
      const out = await this.call('GetQueryExecution', 'athena:GetQueryExecution', () => this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id })));
      const execution = out.QueryExecution ?? {};
      const state = execution.Status?.State;
      if (state !== 'QUEUED' && state !== 'RUNNING') return execution;
      const scanned = execution.Statistics?.DataScannedInBytes ?? 0;
      const limit = this.settings.maxScanBytes;
      if (limit !== undefined && scanned > limit) {
        await this.stop(id);
        this.record(label, { ...this.statsOf(id, execution), state: 'CANCELLED' });
        throw new ScanLimitError(`${label}: query ${id} stopped after scanning ${formatBytes(scanned)}, over --max-scan-gb ${limit / 1024 ** 3}; narrow --since/--until/--region or raise the limit`);
      }
      await sleep(delay, signal);
      delay = Math.min(poll.maxMs, delay * poll.factor);
    }
  }

  /** Pages GetQueryResults; the first row of the first page is the header row and is skipped. */
  private async results(id: string, signal: AbortSignal | undefined): Promise<{ columns: string[]; rows: Array<Record<string, string | null>> }> {
    let columns: string[] | undefined;
    const rows: Array<Record<string, string | null>> = [];
    let first = true;
    let last = false;
    const request: PageRequest<GetQueryResultsCommandOutput> = {
      send: (token) => this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, ...(token ? { NextToken: token } : {}) })),
      nextToken: (page) => page.NextToken,
      permission: 'athena:GetQueryResults and s3:GetObject on the output location',
      maxAttempts: this.settings.maxAttempts ?? 5,
      backoffMs: this.settings.backoffMs ?? 500,
      ...(signal ? { signal } : {}),
    };
    for await (const item of pages(request)) {
      if (signal?.aborted) break;
      if (!item.ok) throw this.failed('GetQueryResults', item.failure, item.error);
      const page = item.page;
      columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? c.Label ?? '');
      const names = columns;
      let data = (page.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
      if (first && data.length > 0 && data[0]!.every((v, i) => v === names[i])) data = data.slice(1);
      first = false;
      for (const values of data) rows.push(Object.fromEntries(names.map((n, i) => [n, values[i] ?? null])));
      last = !item.nextToken;
    }
    if (!last) throw new AthenaCancelledError(`interrupted while reading the results of query ${id}`);
    return { columns: columns ?? [], rows };
  }
}

/** Turns a foreign error from an Athena call into its one-line reason. */
export function athenaReason(error: unknown, permission: string): string {
  return error instanceof TrailhoundError ? error.message : classifyAwsError(error, permission).reason;
}
