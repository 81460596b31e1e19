import { existsSync, rmSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { ExitCode, UsageError } from '../core/errors.js';
import { ingestFiles, type IngestProgress, type IngestSummary } from '../ingest/pipeline.js';
import type { Scope } from '../ingest/trail-layout.js';
import { terminalSafe } from '../report/text-safety.js';
import type { AwsOptions } from '../sources/aws.js';
import type { RemoteIngestSummary, RemoteProgress } from '../sources/remote-ingest.js';
import { OLD_LAYOUT_HINT, recordCompression } from '../store/segments.js';
import { Store } from '../store/store.js';
import { athenaIngestRequested, type IngestAthenaOptions } from './athena-command.js';
import { commaList, ingestLimits, parseScope, positiveNumber, storePath, type ScopeOptions } from './options.js';
import { counted } from '../core/words.js';

interface IngestCliOptions extends ScopeOptions, Omit<IngestAthenaOptions, 'format' | keyof ScopeOptions> {
  readonly db?: string;
  readonly maxFileMb?: string;
  readonly batchMb: string;
  readonly memoryLimit?: string;
  readonly format: 'text' | 'json';
  readonly progress: boolean;
  readonly eventHistory?: boolean;
  readonly logGroup?: readonly string[];
  readonly regions?: readonly string[];
  readonly key?: readonly string[];
  readonly user?: readonly string[];
  readonly eventName?: readonly string[];
  readonly ip?: readonly string[];
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly concurrency?: string;
  readonly cache?: string;
  readonly followSymlinks?: boolean;
}

/**
 * `trailhound ingest PATH…` (local files), `ingest s3://BUCKET[/PREFIX]`, `ingest --event-history`
 * or `ingest --log-group NAME`: loads, prints the summary, and sets the exit code (3 when
 * anything was skipped or failed).
 */
export async function ingestCommand(paths: readonly string[], opts: IngestCliOptions): Promise<void> {
  if (athenaIngestRequested(opts)) return (await import('./athena-command.js')).ingestAthenaCommand(paths, opts);
  const scope = parseScope(opts);
  const { maxFileBytes, memoryLimit } = ingestLimits(opts);
  const batchBytes = Math.round(positiveNumber('--batch-mb', opts.batchMb) * 1024 * 1024);
  const remoteUris = paths.filter((p) => p.startsWith('s3://'));
  const localPaths = paths.filter((p) => !p.startsWith('s3://'));
  const sources = [opts.eventHistory, opts.logGroup?.length, remoteUris.length || localPaths.length].filter(Boolean).length;
  if (sources === 0) throw new UsageError('missing required argument: name what to ingest (PATH…, s3://BUCKET[/PREFIX], --event-history or --log-group NAME)');
  if (sources > 1) throw new UsageError('ingest one kind of source per run: paths and s3:// locations, --event-history, or --log-group');
  if (!opts.eventHistory && !opts.logGroup?.length && (opts.key?.length || opts.user?.length || opts.eventName?.length || opts.ip?.length)) {
    throw new UsageError('--key, --user, --event-name and --ip are filters for --event-history and --log-group; for files, load them and use analyze or query');
  }
  const list = commaList;
  const concurrency = opts.concurrency ? Math.round(positiveNumber('--concurrency', opts.concurrency)) : undefined;
  const aws: AwsOptions = {
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.endpointUrl ? { endpointUrl: checkEndpoint(opts.endpointUrl) } : {}),
  };

  // The SDK warns on Node 20 about its own future releases; trailhound pins the SDK it was tested with.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // A profile that does not exist fails here, before a store is made for nothing.
  if (opts.eventHistory || opts.logGroup?.length || remoteUris.length) (await import('../sources/aws.js')).checkProfile(aws);
  const created = !existsSync(storePath(opts));
  const store = await Store.open(storePath(opts), { memoryLimit });
  let oldLayout = false;
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ntrailhound: stopping after the current batch (press Ctrl-C again to quit at once; nothing committed is lost)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = opts.progress && process.stderr.isTTY ? new ProgressView() : undefined;
  const remoteProgress = opts.progress && process.stderr.isTTY ? new RemoteProgressView() : undefined;
  const summaries: Array<IngestSummary | RemoteIngestSummary> = [];
  let failed = true;
  try {
    const signal = controller.signal;
    const load = { maxFileBytes, batchBytes, onProgress: (p: IngestProgress) => (remoteProgress?.stop(), progress?.update(p)) };
    const remote = { store, scope, signal, load, onProgress: (p: RemoteProgress) => remoteProgress?.update(p), ...(opts.cache ? { cacheDir: opts.cache } : {}) };
    if (opts.eventHistory) {
      const { ingestEventHistory } = await import('../sources/event-history-source.js');
      if (opts.ip?.length) throw new UsageError('Event History cannot filter by IP address on the server; load the window and use analyze/query, or use --log-group');
      const regions = list(opts.regions);
      summaries.push(
        await ingestEventHistory({
          ...aws,
          ...remote,
          ...(regions.length ? { regions } : {}),
          filters: { keys: list(opts.key), users: list(opts.user), eventNames: list(opts.eventName) },
        }),
      );
    } else if (opts.logGroup?.length) {
      const { ingestCloudWatchLogs } = await import('../sources/cloudwatch-logs-source.js');
      if (opts.user?.length) throw new UsageError('--user is not pushed down to CloudWatch Logs; use --key, --ip or --event-name');
      summaries.push(
        await ingestCloudWatchLogs({
          ...aws,
          ...remote,
          ...(scope.regions?.length === 1 ? { region: scope.regions[0]!, scope: withoutRegions(scope) } : {}),
          logGroups: list(opts.logGroup),
          filters: { keys: list(opts.key), ips: list(opts.ip), eventNames: list(opts.eventName) },
        }),
      );
    } else {
      if (localPaths.length) summaries.push(await ingestFiles({ paths: localPaths, store, scope, followSymlinks: opts.followSymlinks ?? false, maxFileBytes, batchBytes, signal, onProgress: (p) => progress?.update(p) }));
      if (remoteUris.length) {
        const { ingestS3Archive } = await import('../sources/s3-archive-source.js');
        for (const uri of remoteUris) {
          if (signal.aborted) break;
          summaries.push(await ingestS3Archive({ ...aws, ...remote, uri, ...(concurrency ? { concurrency } : {}) }));
        }
      }
    }
    failed = false;
    oldLayout = (await recordCompression(store)) === 'fsst';
  } finally {
    progress?.stop();
    remoteProgress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
    // A run that failed before loading anything leaves no empty store behind it (one that existed stays).
    if (failed && created && summaries.length === 0) removeStoreFiles(store.path);
  }
  const json = summaries.length === 1 ? summaries[0] : summaries;
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : summaries.map((s) => formatSummary(s, store.path)).join(''));
  if (oldLayout) process.stderr.write(`note: ${terminalSafe(store.path)} is in the older layout, its records not compressed with zstd; ${OLD_LAYOUT_HINT}\n`);
  const interrupted = summaries.some((s) => s.status === 'interrupted');
  process.exitCode = interrupted ? 130 : summaries.some((s) => s.skipped.length > 0) ? ExitCode.partial : ExitCode.ok;
}

/** Removes a store file this run created, with its write-ahead log. */
function removeStoreFiles(path: string): void {
  for (const file of [path, `${path}.wal`]) rmSync(file, { force: true });
}

/** Only loopback or http(s) endpoints with a host; anything else is a typo. */
function checkEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--endpoint-url ${url} is not a URL; write e.g. http://localhost:4566`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--endpoint-url must be http:// or https://, not ${parsed.protocol}`);
  return url;
}

/** A log group lives in one region: --region names it, and does not also filter the records. */
function withoutRegions(scope: Scope): Scope {
  const { regions: _regions, ...rest } = scope;
  return rest;
}

const MAX_LISTED = 50;

/** The human summary of an ingest. */
export function formatSummary(s: IngestSummary | RemoteIngestSummary, dbPath: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const remote = 'remote' in s ? s : undefined;
  const lines = [
    `${s.status === 'interrupted' ? 'Interrupted: loaded' : 'Loaded'} ${counted(s.eventsLoaded, 'event')} from ${counted(s.filesRead - s.digestFiles - (s.snapshots ?? 0), remote && remote.source !== 's3' ? 'page' : 'log file')} into ${terminalSafe(dbPath)} (run ${s.runId}, ${s.seconds} s)`,
    `  files found ${n(s.filesFound)}, already ingested ${n(s.alreadyIngested)}, digest files recorded ${n(s.digestFiles)}${s.snapshots ? `, account snapshots ${n(s.snapshots)}` : ''}, skipped ${n(s.skipped.length)}`,
    `  duplicate events ${n(s.duplicates)} (exact copies, not stored again), records left out ${n(s.rejectedRecords)}, conflicting events ${n(s.conflicts)} (kept)`,
  ];
  if (s.firstEventTime) lines.push(`  time range ${s.firstEventTime} .. ${s.lastEventTime}`);
  if (s.accounts.length) lines.push(`  accounts ${s.accounts.map(terminalSafe).join(', ')}`);
  if (s.regions.length) lines.push(`  regions ${s.regions.map(terminalSafe).join(', ')}`);
  if (remote) {
    const unit = remote.source === 's3' ? 'objects' : 'pages';
    lines.push(
      `  ${remote.source}: fetched ${n(remote.remote.fetched)} ${unit} (${(remote.remote.bytes / 1024 / 1024).toFixed(1)} MiB) with ${n(remote.remote.requests)} requests and ${n(remote.remote.retries)} retries in ${remote.remote.seconds} s; ${n(remote.remote.reused)} ${unit} reused from the evidence cache; ${n(remote.remote.failed)} failed`,
    );
  }
  if (s.prunedDirectories) lines.push(`  ${n(s.prunedDirectories)} trail folders pruned by scope without being opened`);
  if (s.skipped.length) {
    lines.push(`Skipped ${s.skipped.length} input${s.skipped.length === 1 ? '' : 's'}:`);
    // A run cut off by an expired token can leave thousands of objects unfetched: show the first ones, the store has all.
    for (const item of s.skipped.slice(0, MAX_LISTED)) lines.push(`  ${terminalSafe(item.path)}: ${terminalSafe(item.reason)}`);
    if (s.skipped.length > MAX_LISTED) lines.push(`  … and ${n(s.skipped.length - MAX_LISTED)} more (trailhound query "select uri, status, reason from inputs where run_id = '${s.runId}' and status <> 'loaded'")`);
  }
  if (s.warnings.length) {
    lines.push('Warnings:');
    for (const item of s.warnings) lines.push(`  ${terminalSafe(item.path)}: ${terminalSafe(item.reason)}`);
  }
  if (s.status === 'interrupted') lines.push('Run the same command again to finish: files already loaded are passed over.');
  return `${lines.join('\n')}\n`;
}

class ProgressView {
  private bar: SingleBar | undefined;
  private phase: IngestProgress['phase'] | undefined;

  update(p: IngestProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      const label = p.phase === 'scan' ? 'hashing ' : 'loading ';
      this.bar = new SingleBar({
        format: `${label} [{bar}] {value}/{total} files | {events} events | {eta_formatted} left`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      });
      this.bar.start(p.total, 0, { events: 0 });
    }
    this.bar?.update(p.done, { events: p.events.toLocaleString('en-US') });
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** Progress of a remote fetch on stderr: objects with a bar and an ETA, or pages with a rate. */
class RemoteProgressView {
  private bar: SingleBar | undefined;
  private started = performance.now();
  private lineShown = false;

  update(p: RemoteProgress): void {
    const rate = p.done / Math.max(0.001, (performance.now() - this.started) / 1000);
    if (p.phase === 'download' && p.total !== undefined) {
      if (!this.bar) {
        this.bar = new SingleBar({
          format: 'fetching [{bar}] {value}/{total} objects | {mib} MiB | {rate}/s | {eta_formatted} left',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        });
        this.bar.start(p.total, 0, { mib: '0.0', rate: '0' });
      }
      this.bar.update(p.done, { mib: (p.bytes / 1024 / 1024).toFixed(1), rate: rate.toFixed(0) });
      return;
    }
    const what = p.phase === 'list' ? 'listing: requests' : 'pages';
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = p.fraction && p.fraction > 0.01 && p.fraction < 1 ? ` | ~${Math.round(p.fraction * 100)}% of the window | ~${Math.ceil((elapsed * (1 - p.fraction)) / p.fraction)} s left` : '';
    process.stderr.write(`\r${what} ${p.done.toLocaleString('en-US')} | ${p.events.toLocaleString('en-US')} events | ${rate.toFixed(1)}/s${eta}   `);
    this.lineShown = true;
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    if (this.lineShown) process.stderr.write('\r\x1b[K');
    this.lineShown = false;
  }
}
