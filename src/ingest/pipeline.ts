import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { BIGINT, BOOLEAN, LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { SnapshotDocumentError, parseSnapshotDocument } from '../snapshot/document.js';
import { documentDigest, saveSnapshot } from '../snapshot/store.js';
import { mapLimit } from '../core/pool.js';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { discoverFiles } from './discover.js';
import { probeFile, type ProbedFile } from './probe.js';
import { parseTrailPath, type Scope } from './trail-layout.js';
import { catchUpKeyGroups, catchUpRecordsDigests, loadBatch, PENDING_DIGEST, withinDepth, type Batch, type BatchFile, type FileCounts } from '../store/bulk-load.js';
import { createSegment, olderSegmentIds, segmentIds, segmentTable } from '../store/segments.js';
import { Store } from '../store/store.js';

/** Where the files of an ingest came from; stored in ingest_runs.source and inputs.source. */
export type IngestSource = 'files' | 's3' | 'event-history' | 'cloudwatch-logs' | 'athena';

/** What a remote source knows about a file it wrote to the evidence cache. */
export interface RemoteInputInfo {
  /** The remote object the file holds, e.g. `s3://bucket/key` or `event-history://eu-west-1/…`; stored as inputs.uri. */
  readonly uri: string;
  /** Account and region, when the file's trail path (of the uri) does not say. */
  readonly account?: string;
  readonly region?: string;
}

/** A remote object, page or region that could not be fetched; recorded in `inputs` so coverage shows it. */
export interface FailedInput {
  /** `s3://bucket/key`, `event-history://eu-west-1`, `cloudwatch-logs://group`, … */
  readonly uri: string;
  /** `failed` for an error (denied, throttled, corrupt), `skipped` for something passed over on purpose. */
  readonly status: 'failed' | 'skipped';
  readonly reason: string;
  readonly account?: string;
  readonly region?: string;
}

/** Options of an ingest of local files and directories. */
export interface IngestOptions {
  readonly paths: readonly string[];
  /** Where the files came from (default `files`, local files; inputs rows then say `file`). */
  readonly source?: IngestSource;
  /** Maps a path in the evidence cache to the remote object it holds (inputs.uri, account, region). */
  readonly describeInput?: (path: string) => RemoteInputInfo | undefined;
  /** Remote failures to record in `inputs` and in the summary's `skipped`, as part of this run. */
  readonly failures?: readonly FailedInput[];
  /** The run's arguments as recorded in ingest_runs (default: the paths and the scope). */
  readonly arguments?: Record<string, unknown>;
  /** The caller stopped (Ctrl-C) before it gathered every file: the run is marked interrupted. */
  readonly interrupted?: boolean;
  /** Files found by the caller that are not passed in `paths` (already ingested remotely); added to filesFound and alreadyIngested. */
  readonly alreadyIngested?: number;
  /** The store to load into (opened by the caller) . */
  readonly store: Store;
  readonly scope?: Scope;
  /** Follow symbolic links that lead outside the paths given (default: report them and skip). */
  readonly followSymlinks?: boolean;
  /** Largest decompressed file (and single JSON value) to load; default 1 GiB. */
  readonly maxFileBytes?: number;
  /** Decompressed bytes per load batch (one transaction); default 2 GiB. */
  readonly batchBytes?: number;
  /** Batches of at least this many decompressed bytes get a segment of their own; default 192 MiB. */
  readonly newSegmentBytes?: number;
  /** Stops between batches (and interrupts the running one) when aborted. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: IngestProgress) => void;
  /** Called after the files were probed and before a batch is copied for loading (tests change files here). */
  readonly beforeLoad?: (paths: readonly string[]) => Promise<void>;
}

/** Where an ingest is, for a progress bar. */
export interface IngestProgress {
  readonly phase: 'scan' | 'load';
  readonly done: number;
  readonly total: number;
  readonly events: number;
}

/** A file that was not loaded, and why. */
export interface SkippedInput {
  readonly path: string;
  readonly reason: string;
}

/** The result of an ingest: what was read, loaded, passed over and why. */
export interface IngestSummary {
  readonly runId: string;
  readonly status: 'completed' | 'completed-with-skips' | 'interrupted';
  readonly filesFound: number;
  readonly filesRead: number;
  readonly alreadyIngested: number;
  readonly digestFiles: number;
  /** Account snapshots (`snapshot --out` documents) stored. */
  readonly snapshots: number;
  readonly eventsLoaded: number;
  /** Exact copies of records already stored (same key, account and content), not stored again. */
  readonly duplicates: number;
  /** Records left out with a reason (in `record_issues` and the warnings). */
  readonly rejectedRecords: number;
  /** Stored events whose eventID and account match a stored record of other content (both kept). */
  readonly conflicts: number;
  readonly skipped: readonly SkippedInput[];
  readonly warnings: readonly SkippedInput[];
  readonly prunedDirectories: number;
  readonly ignoredFiles: number;
  readonly firstEventTime: string | null;
  readonly lastEventTime: string | null;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly seconds: number;
}

const MiB = 1024 * 1024;
const MAX_FILES_PER_BATCH = 20_000;

/**
 * Loads CloudTrail files and directories into the store, exactly once: files already loaded
 * (same sha256) are passed over, exact copies of stored records (same eventID, account and
 * content) are not added again, and each batch commits with its manifest rows so an
 * interrupted ingest resumes cleanly. Each file is loaded from a private copy whose bytes are
 * the ones hashed, so the hash recorded is the hash of what was parsed.
 */
export async function ingestFiles(options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const { store } = options;
  const scope = options.scope ?? {};
  const maxFileBytes = options.maxFileBytes ?? 1024 * MiB;
  const batchBytes = options.batchBytes ?? 2048 * MiB;
  const runId = newRunId();
  const source = options.source ?? 'files';
  const naming = new InputNaming(source, options.describeInput);
  await store.run(
    `insert into ingest_runs (run_id, started_at, status, source, arguments, tool_version) values (?, now(), 'running', ?, ?, ?)`,
    [runId, source, JSON.stringify(options.arguments ?? { paths: options.paths, scope: describeScope(scope) }), toolVersion()],
  );

  // Row order inside the store carries no meaning (every output sorts), and dropping it lets DuckDB write in parallel.
  await store.run('set preserve_insertion_order = false');
  // A run cut off between a batch and the key map's update (or its records digests) leaves them behind: catch up first.
  await catchUpKeyGroups(store);
  await catchUpRecordsDigests(store);
  const discovery = await discoverFiles(options.paths, scope, { followSymlinks: options.followSymlinks ?? false });
  const skipped: SkippedInput[] = discovery.unreadable.map((u) => ({ path: u.path, reason: u.reason }));
  const total = discovery.files.length;
  let scanned = 0;
  const probed = await mapLimit(discovery.files, 4, async (file) => {
    const result = await probeFile(file.path, { maxFileBytes }).catch((error: unknown) => ({ path: file.path, error }));
    options.onProgress?.({ phase: 'scan', done: ++scanned, total, events: 0 });
    return result;
  });

  const known = await knownHashes(store, probed);
  const seenThisRun = new Set<string>();
  let alreadyIngested = 0;
  const eventFiles: ProbedFile[] = [];
  const digestFiles: ProbedFile[] = [];
  const snapshotFiles: ProbedFile[] = [];
  const skipRows: Array<{ file: ProbedFile | undefined; path: string; reason: string }> = [];
  for (const item of probed) {
    if ('error' in item) {
      skipRows.push({ file: undefined, path: item.path, reason: `cannot read: ${(item.error as Error).message}` });
      continue;
    }
    // A file that cannot be loaded is reported at each of its paths: ten empty files are ten empty files, not one and nine "already ingested".
    if (item.sniffed.kind === 'skip') {
      skipRows.push({ file: item, path: item.path, reason: item.sniffed.reason });
      continue;
    }
    if (known.has(item.sha256) || seenThisRun.has(item.sha256)) {
      alreadyIngested++;
      continue;
    }
    seenThisRun.add(item.sha256);
    if (item.sniffed.kind === 'digest') digestFiles.push(item);
    else if (item.sniffed.kind === 'snapshot') snapshotFiles.push(item);
    else eventFiles.push(item);
  }

  const skipIds = await allocateInputIds(store, skipRows.length);
  await insertInputs(
    store,
    skipRows.map((row, i) => ({ inputId: skipIds[i]!, runId, file: row.file, uri: row.path, status: 'skipped', reason: row.reason })),
    naming,
  );
  skipped.push(...skipRows.map((row) => ({ path: row.path, reason: row.reason })));
  skipped.push(...(await recordDigests(store, runId, digestFiles, naming)));
  const snapshots = await recordSnapshots(store, runId, snapshotFiles, naming, maxFileBytes);
  skipped.push(...snapshots.skipped);
  skipped.push(...(await recordFailures(store, runId, options.failures ?? [], naming)));

  const loaded = await loadEventFiles(store, runId, eventFiles, { ...options, scope, maxFileBytes, batchBytes }, naming);
  skipped.push(...loaded.skipped);
  const { eventsLoaded, duplicates, rejectedRecords, conflicts, filesLoaded, interrupted, warnings } = loaded;

  const status: IngestSummary['status'] = interrupted || options.interrupted ? 'interrupted' : skipped.length > 0 ? 'completed-with-skips' : 'completed';
  await store.run(
    `update ingest_runs set finished_at = now(), status = ?, files_read = ?, events_loaded = ?, duplicates = ?, files_skipped = ? where run_id = ?`,
    [status, filesLoaded, eventsLoaded, duplicates, skipped.length, runId],
  );
  await store.checkpoint();
  const range = await store.one<{ first: string | null; last: string | null; accounts: string[] | null; regions: string[] | null }>(
    `select min(eventtime) as first, max(eventtime) as last,
            list(distinct recipientaccountid order by recipientaccountid) filter (where recipientaccountid is not null) as accounts,
            list(distinct awsregion order by awsregion) filter (where awsregion is not null) as regions
     from events where run_id = ?`,
    [runId],
  );
  return {
    runId,
    status,
    filesFound: discovery.files.length + (options.alreadyIngested ?? 0),
    filesRead: filesLoaded + digestFiles.length + snapshots.loaded,
    alreadyIngested: alreadyIngested + (options.alreadyIngested ?? 0),
    digestFiles: digestFiles.length,
    snapshots: snapshots.loaded,
    eventsLoaded,
    duplicates,
    rejectedRecords,
    conflicts,
    skipped: sortByPath(skipped.map((s) => naming.display(s))),
    warnings: sortByPath(warnings.map((s) => naming.display(s))),
    prunedDirectories: discovery.prunedDirectories,
    ignoredFiles: discovery.ignoredFiles,
    firstEventTime: range?.first ?? null,
    lastEventTime: range?.last ?? null,
    accounts: range?.accounts ?? [],
    regions: range?.regions ?? [],
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** What loading the event files of a run came to. */
interface LoadOutcome {
  readonly eventsLoaded: number;
  readonly duplicates: number;
  readonly rejectedRecords: number;
  readonly conflicts: number;
  readonly filesLoaded: number;
  readonly skipped: readonly SkippedInput[];
  readonly warnings: readonly SkippedInput[];
  readonly interrupted: boolean;
}

type LoadSettings = IngestOptions & { readonly scope: Scope; readonly maxFileBytes: number; readonly batchBytes: number };

/**
 * Loads event files batch by batch, each batch in one transaction with its manifest rows.
 * A batch that fails because of a file's content is split until the bad file stands alone,
 * which is then recorded as skipped; the others load.
 */
async function loadEventFiles(store: Store, runId: string, eventFiles: readonly ProbedFile[], settings: LoadSettings, naming: InputNaming): Promise<LoadOutcome> {
  const { scope, maxFileBytes, signal } = settings;
  const skipped: SkippedInput[] = [];
  const warnings: SkippedInput[] = [];
  let eventsLoaded = 0;
  let duplicates = 0;
  let rejectedRecords = 0;
  let conflicts = 0;
  let filesLoaded = 0;
  let processed = 0;
  let interrupted = false;
  const onAbort = () => store.connection.interrupt();
  signal?.addEventListener('abort', onAbort);
  const copies = new PrivateCopies();
  // JSON Lines files that DuckDB could not parse whole, read again line by line.
  const byLine = new Set<ProbedFile>();
  try {
    const queue = planBatches(eventFiles, settings.batchBytes);
    while (queue.length > 0) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const planned = queue.shift()!;
      if (planned[0]!.sniffed.kind !== 'events') continue;
      await settings.beforeLoad?.(planned.map((f) => f.path));
      // The bytes DuckDB parses are a private copy, hashed as it is written: a file changed since the scan is not loaded.
      const copied = await mapLimit(planned, 4, async (file) => ({ file, copy: await (byLine.has(file) ? copies.makeByLine(file) : copies.make(file)).catch((error: unknown) => ({ error: error as Error })) }));
      const files: ProbedFile[] = [];
      const readPaths: string[] = [];
      const badLines: Array<BatchFile['badLines']> = [];
      for (const { file, copy } of copied) {
        const reason = 'error' in copy ? `cannot read: ${copy.error.message}` : copy.sha256 !== file.sha256 ? `changed while it was being ingested (sha256 ${file.sha256} when scanned, ${copy.sha256} when loaded); ingest it again once it is stable` : undefined;
        if (reason === undefined && 'path' in copy) {
          files.push(file);
          readPaths.push(copy.path);
          badLines.push('badLines' in copy ? (copy.badLines as BatchFile['badLines']) : undefined);
          continue;
        }
        await recordInput(store, runId, file, file.path, 'skipped', reason!, naming);
        skipped.push({ path: file.path, reason: reason! });
        processed++;
      }
      if (files.length === 0) continue;
      const first = files[0]!;
      if (first.sniffed.kind !== 'events') continue;
      const ids = await allocateInputIds(store, files.length);
      const batchFiles: BatchFile[] = files.map((_, i) => ({ inputId: ids[i]!, readPath: readPaths[i]!, ...(badLines[i] ? { badLines: badLines[i] } : {}) }));
      // A file read line by line is loaded from its plain copy, alone in its batch.
      const batch: Batch = { container: first.sniffed.container, embedded: first.sniffed.embedded, gzip: first.gzip && !byLine.has(first), shallow: files.every(shallow), files: batchFiles };
      try {
        const counts = await store.transaction(async () => {
          const segment = await targetSegment(store, runId, files, settings.newSegmentBytes ?? NEW_SEGMENT_BYTES);
          const result = await loadBatch(store, runId, batch, scope, readerBufferBytes(files, maxFileBytes), segment);
          await insertInputs(
            store,
            files.map((file, i) => {
              const c = result[i]!;
              const allRejected = c.records > 0 && c.rejected === c.records;
              return { inputId: ids[i]!, runId, file, status: allRejected ? 'skipped' : 'loaded', reason: allRejected ? notCloudTrail(c) : null, counts: c, scoped: isScoped(scope) };
            }),
            naming,
          );
          return result;
        });
        await catchUpRecordsDigests(store);
        await catchUpKeyGroups(store);
        for (let i = 0; i < files.length; i++) {
          const c = counts[i]!;
          const path = files[i]!.path;
          rejectedRecords += c.rejected;
          if (c.records > 0 && c.rejected === c.records) {
            skipped.push({ path, reason: notCloudTrail(c) });
            continue;
          }
          filesLoaded++;
          eventsLoaded += c.loaded;
          duplicates += c.duplicates;
          conflicts += c.conflicts;
          if (c.rejected > 0) warnings.push({ path, reason: `${c.rejected} of ${c.records} records left out: ${describeRejections(c)}` });
          if (c.conflicts > 0) warnings.push({ path, reason: `${c.conflicts} events share their eventID and account with a stored record of other content; both are kept (record_issues lists them)` });
        }
        processed += files.length;
        settings.onProgress?.({ phase: 'load', done: processed, total: eventFiles.length, events: eventsLoaded });
      } catch (error) {
        if (signal?.aborted) {
          interrupted = true;
          break;
        }
        const outOfMemory = isOutOfMemory(error);
        if (!outOfMemory && !isInputError(error)) throw error;
        if (files.length > 1) {
          // One bad file fails the whole statement (or a batch does not fit in memory): split the batch until the bad file stands alone.
          const half = Math.ceil(files.length / 2);
          queue.unshift(files.slice(0, half), files.slice(half));
          continue;
        }
        if (!outOfMemory && first.sniffed.kind === 'events' && first.sniffed.container === 'jsonl' && !byLine.has(first)) {
          // One bad line fails DuckDB's reader for the whole file: read it again line by line, keeping the good lines.
          byLine.add(first);
          queue.unshift([first]);
          continue;
        }
        const reason = outOfMemory
          ? `does not fit in the memory limit while loading (${clip(firstLine(error))}); raise --memory-limit, or load this file on a larger machine`
          : describeLoadError(error).split(readPaths[0]!).join(first.path);
        await recordInput(store, runId, first, first.path, 'skipped', reason, naming);
        skipped.push({ path: first.path, reason });
        processed++;
      } finally {
        await copies.clear();
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await copies.dispose();
  }
  return { eventsLoaded, duplicates, rejectedRecords, conflicts, filesLoaded, skipped, warnings, interrupted };
}

/** The first rejected records of a file, by position and reason, in one line. */
function describeRejections(c: FileCounts): string {
  const shown = c.rejections.slice(0, 5).map((r) => (r.line !== undefined ? r.reason : `${r.recordIndex === null ? 'a record' : `record ${r.recordIndex}`}: ${r.reason}`));
  const more = c.rejections.length > shown.length ? `; and ${c.rejections.length - shown.length} more (record_issues lists all)` : '';
  return `${shown.join('; ')}${more}`;
}

function newRunId(): string {
  return `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
}

function describeScope(scope: Scope): Record<string, unknown> {
  return {
    since: scope.since ? isoSeconds(scope.since) : null,
    until: scope.until ? isoSeconds(scope.until) : null,
    accounts: scope.accounts ?? [],
    regions: scope.regions ?? [],
  };
}

/** Whether an ingest was narrowed: files it loads hold events it left out, so later runs read them again. */
function isScoped(scope: Scope): boolean {
  return Boolean(scope.since || scope.until || scope.accounts?.length || scope.regions?.length);
}

function notCloudTrail(c: FileCounts): string {
  return `no CloudTrail events in it (${c.records} objects left out: ${describeRejections(c)})`;
}

function sortByPath(items: SkippedInput[]): SkippedInput[] {
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function knownHashes(store: Store, probed: ReadonlyArray<ProbedFile | { path: string; error: unknown }>): Promise<Set<string>> {
  const hashes = probed.flatMap((p) => ('sha256' in p ? [p.sha256] : []));
  if (hashes.length === 0) return new Set();
  const rows = await store.all<{ sha256: string }>(
    `select distinct sha256 from inputs where ((status = 'loaded' and not scoped) or status in ('digest', 'snapshot')) and list_contains($hashes, sha256)`,
    { hashes: listValue(hashes) },
    { hashes: LIST(VARCHAR) },
  );
  return new Set(rows.map((r) => r.sha256));
}

/** Whether a file is known to hold no record nested too deep (see `withinDepth`). */
function shallow(file: ProbedFile): boolean {
  return file.sniffed.kind === 'events' && withinDepth(file.depth, file.sniffed.container, file.sniffed.embedded);
}

/** Groups files into batches of one shape (container, embedded, gzip, shallow), bounded in bytes and count. */
function planBatches(files: readonly ProbedFile[], batchBytes: number): ProbedFile[][] {
  const key = (f: ProbedFile) => (f.sniffed.kind === 'events' ? `${f.sniffed.container}|${f.sniffed.embedded}|${f.gzip}|${shallow(f)}` : 'other');
  const groups = new Map<string, ProbedFile[]>();
  for (const file of files) {
    const k = key(file);
    const group = groups.get(k) ?? [];
    group.push(file);
    groups.set(k, group);
  }
  const batches: ProbedFile[][] = [];
  for (const group of groups.values()) {
    let current: ProbedFile[] = [];
    let bytes = 0;
    for (const file of group) {
      if (current.length > 0 && (bytes + file.estimatedBytes > batchBytes || current.length >= MAX_FILES_PER_BATCH)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(file);
      bytes += file.estimatedBytes;
    }
    if (current.length > 0) batches.push(current);
  }
  return batches;
}

// About one DuckDB row group of CloudTrail records: below this, appending costs little.
const NEW_SEGMENT_BYTES = 192 * MiB;

/** The segment a batch goes to: the newest if it is empty or the batch is small (and it has this release's columns), else a new one. */
async function targetSegment(store: Store, runId: string, files: readonly ProbedFile[], newSegmentBytes: number): Promise<number> {
  const newest = (await segmentIds(store)).at(-1) ?? 0;
  // A segment made by an older release, without every stored column of this one, takes no more rows.
  if ((await olderSegmentIds(store, [newest])).length > 0) return createSegment(store, runId);
  const bytes = files.reduce((sum, f) => sum + f.estimatedBytes, 0);
  if (bytes < newSegmentBytes) return newest;
  const rows = await store.one<{ n: number }>(`select count(*)::bigint as n from ${segmentTable(newest)}`);
  return rows?.n === 0 ? newest : createSegment(store, runId);
}

/**
 * The largest JSON value DuckDB must hold for a batch. Its reader allocates buffers of this
 * size per thread, so it follows the batch's largest file instead of the global limit.
 */
function readerBufferBytes(files: readonly ProbedFile[], maxFileBytes: number): number {
  const largest = Math.max(...files.map((f) => f.estimatedBytes));
  return Math.min(maxFileBytes, Math.max(4 * MiB, Math.ceil(largest * 1.05) + MiB));
}

async function allocateInputIds(store: Store, n: number): Promise<number[]> {
  const rows = await store.all<{ id: number }>(`select nextval('input_id_seq') as id from range(?)`, [n]);
  return rows.map((r) => r.id);
}

interface InputRow {
  readonly inputId: number;
  readonly runId: string;
  readonly file: ProbedFile | undefined;
  readonly uri?: string;
  readonly status: 'loaded' | 'skipped' | 'digest' | 'snapshot' | 'failed';
  readonly account?: string | null;
  readonly region?: string | null;
  readonly reason: string | null;
  readonly counts?: FileCounts | undefined;
  readonly scoped?: boolean;
}

/** Manifest columns with their types, in the order inputValues gives them. */
const INPUT_FIELDS = [
  ['input_id', BIGINT],
  ['run_id', VARCHAR],
  ['uri', VARCHAR],
  ['sha256', VARCHAR],
  ['size_bytes', BIGINT],
  ['format', VARCHAR],
  ['status', VARCHAR],
  ['reason', VARCHAR],
  ['records', BIGINT],
  ['loaded', BIGINT],
  ['duplicates', BIGINT],
  ['rejected', BIGINT],
  ['scoped', BOOLEAN],
  ['account', VARCHAR],
  ['region', VARCHAR],
  ['records_digest', VARCHAR],
] as const;

async function insertInput(store: Store, row: InputRow, naming: InputNaming): Promise<void> {
  await insertInputs(store, [row], naming);
}

/** Writes manifest rows in one statement: each column travels as one typed list. */
async function insertInputs(store: Store, rows: readonly InputRow[], naming: InputNaming): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((row) => inputValues(row, naming));
  const params: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  INPUT_FIELDS.forEach(([name, type], column) => {
    params[name] = listValue(values.map((row) => {
      const value = row[column] ?? null;
      return type === BIGINT && typeof value === 'number' ? BigInt(value) : value;
    }));
    types[name] = LIST(type);
  });
  const names = INPUT_FIELDS.map(([name]) => name);
  await store.run(
    `insert into inputs (${names.join(', ')}, source, recorded_at)
     select ${names.map((name) => `unnest($${name})`).join(', ')}, $source, now()`,
    { ...params, source: naming.inputSource },
    { ...types, source: VARCHAR },
  );
}

function inputValues(row: InputRow, naming: InputNaming): Array<string | number | boolean | null> {
  const { uri: path, account, region } = naming.describe(row.file?.path ?? row.uri ?? '');
  const layout = { account: row.account ?? account, region: row.region ?? region };
  const format = row.file?.sniffed.kind === 'events' ? row.file.sniffed.format : row.file?.sniffed.kind === 'digest' ? 'digest' : null;
  return [
    row.inputId,
    row.runId,
    path,
    row.file?.sha256 ?? null,
    row.file?.size ?? null,
    format,
    row.status,
    row.reason,
    row.counts?.records ?? null,
    row.counts?.loaded ?? null,
    row.counts?.duplicates ?? null,
    row.counts?.rejected ?? null,
    row.scoped ?? false,
    layout.account,
    layout.region,
    row.status === 'loaded' ? PENDING_DIGEST : null,
  ];
}

async function recordInput(store: Store, runId: string, file: ProbedFile | undefined, path: string, status: InputRow['status'], reason: string | null, naming: InputNaming): Promise<void> {
  const [inputId] = await allocateInputIds(store, 1);
  await insertInput(store, { inputId: inputId!, runId, file, uri: path, status, reason }, naming);
}

/** Records remote failures as manifest rows of the run; returns them as skipped inputs. */
async function recordFailures(store: Store, runId: string, failures: readonly FailedInput[], naming: InputNaming): Promise<SkippedInput[]> {
  const ids = await allocateInputIds(store, failures.length);
  await insertInputs(
    store,
    failures.map((f, i) => ({ inputId: ids[i]!, runId, file: undefined, uri: f.uri, status: f.status, reason: f.reason, account: f.account ?? null, region: f.region ?? null })),
    naming,
  );
  return failures.map((f) => ({ path: f.uri, reason: f.reason }));
}

/** How the files of a run are named in the manifest: their remote uri when a source gave one, else their path. */
class InputNaming {
  /** inputs.source: `file` for local files (as before sources existed), else the run's source. */
  readonly inputSource: string;
  constructor(
    source: IngestSource,
    private readonly describeInput: IngestOptions['describeInput'],
  ) {
    this.inputSource = source === 'files' ? 'file' : source;
  }

  /** The uri, account and region to record for a path (or a uri given as is). */
  describe(path: string): { uri: string; account: string | null; region: string | null } {
    const remote = this.describeInput?.(path);
    const uri = remote?.uri ?? path;
    const layout = parseTrailPath(uri.replace(/^s3:\/\/[^/]+\//, '/'));
    return { uri, account: remote?.account ?? layout?.account ?? null, region: remote?.region ?? layout?.region ?? null };
  }

  display(item: SkippedInput): SkippedInput {
    return { path: this.describeInput?.(item.path)?.uri ?? item.path, reason: item.reason };
  }
}

/** Stores digest files for later validation, in one transaction; returns those that cannot be read. */
/**
 * Stores the account snapshots among the files: each document checked whole before any of it
 * is stored, its SHA-256 (of the bytes parsed) kept as its provenance. A snapshot already in
 * the store is noted, not stored again.
 */
async function recordSnapshots(store: Store, runId: string, files: readonly ProbedFile[], naming: InputNaming, maxBytes: number): Promise<{ loaded: number; skipped: SkippedInput[] }> {
  const skipped: SkippedInput[] = [];
  let loaded = 0;
  for (const file of files) {
    const [inputId] = await allocateInputIds(store, 1);
    let reason: string | null = null;
    try {
      const bytes = await readFile(file.path);
      const raw = file.gzip ? gunzipSync(bytes, { maxOutputLength: maxBytes }) : bytes;
      if (raw.length > maxBytes) throw new Error(`larger than ${Math.round(maxBytes / MiB)} MiB; raise --max-file-mb`);
      let value: unknown;
      try {
        value = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        throw new Error(`not JSON that parses (${(error as Error).message})`);
      }
      const doc = parseSnapshotDocument(value, naming.describe(file.path).uri);
      const stored = await saveSnapshot(store, doc, { source: 'file', uri: naming.describe(file.path).uri }, documentDigest(raw));
      if (stored) loaded++;
      else reason = `snapshot ${doc.id} is already in the store`;
    } catch (error) {
      reason = error instanceof SnapshotDocumentError ? error.message : `snapshot document that cannot be read: ${(error as Error).message}`;
    }
    await insertInputs(store, [{ inputId: inputId!, runId, file, status: reason ? 'skipped' : 'snapshot', reason }], naming);
    if (reason) skipped.push({ path: file.path, reason });
  }
  return { loaded, skipped };
}

async function recordDigests(store: Store, runId: string, files: readonly ProbedFile[], naming: InputNaming): Promise<SkippedInput[]> {
  const parsed = await mapLimit(files, 8, async (file) => {
    try {
      const bytes = await readFile(file.path);
      const text = (file.gzip ? gunzipSync(bytes, { maxOutputLength: 64 * MiB }) : bytes).toString('utf8');
      return { file, content: JSON.parse(text) as Record<string, unknown> };
    } catch (error) {
      return { file, reason: `digest file that cannot be read (${(error as Error).message}); re-download it` };
    }
  });
  const ids = await allocateInputIds(store, parsed.length);
  const rows = parsed.map((p, i) => ({ ...p, inputId: ids[i]! }));
  await store.transaction(async () => {
    await insertInputs(
      store,
      rows.map((r) => ({ inputId: r.inputId, runId, file: r.file, status: r.content ? 'digest' : 'skipped', reason: r.reason ?? null })),
      naming,
    );
    const good = rows.filter((r) => r.content);
    for (let start = 0; start < good.length; start += 500) {
      const chunk = good.slice(start, start + 500);
      await store.run(
        `insert into digests (input_id, uri, sha256, account, region, digest_start, digest_end, content)
         values ${chunk.map(() => '(?, ?, ?, ?, ?, try_cast(? as timestamptz), try_cast(? as timestamptz), ?)').join(', ')}`,
        chunk.flatMap(({ inputId, file, content }) => {
          const named = naming.describe(file.path);
          return [
            inputId,
            named.uri,
            file.sha256,
            stringField(content!, 'awsAccountId') ?? named.account,
            named.region,
            stringField(content!, 'digestStartTime') ?? null,
            stringField(content!, 'digestEndTime') ?? null,
            JSON.stringify(content),
          ];
        }),
      );
    }
  });
  return rows.flatMap((r) => (r.reason ? [{ path: r.file.path, reason: r.reason }] : []));
}

function stringField(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a load failure comes from a file's content (so the file is skipped) rather than from trailhound itself. */
function isOutOfMemory(error: unknown): boolean {
  return /^Out of Memory/i.test(firstLine(error).replace(/^\w*Error:\s*/, ''));
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function isInputError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return !/^(Binder|Parser|Catalog|Internal|Not implemented|Out of Memory|Interrupt)/i.test(message.replace(/^\w*Error:\s*/, ''));
}

/** Turns DuckDB's reader error into a one-line reason with what to do. */
export function describeLoadError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (/maximum_object_size|maximum object size/i.test(message)) {
    return 'holds a single JSON value larger than the size limit; raise --max-file-mb if the file is genuine';
  }
  if (/gzip|inflate|zlib|decompress/i.test(message)) {
    return `truncated or corrupt gzip (${clip(message)}); re-download the file`;
  }
  if (/JSON|parse|malformed|unexpected character|expected|unexpected end/i.test(message)) {
    return `malformed JSON (${clip(message)}); fix or re-download the file`;
  }
  return `could not be loaded (${clip(message)})`;
}

function clip(text: string): string {
  const cleaned = text.replace(/^[A-Za-z ]+Error:\s*/, '');
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}

/**
 * Copies of the files of one batch in a private folder, hashed as they are written: DuckDB
 * reads the copy, so the sha256 recorded is that of the bytes parsed even if the original
 * changes meanwhile. Copy names are plain (`input-N.json`), never glob patterns.
 */
class PrivateCopies {
  private dir: string | undefined;
  private next = 0;

  async make(file: ProbedFile): Promise<{ path: string; sha256: string }> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'trailhound-load-'));
    const path = join(this.dir, `input-${this.next++}.json${file.gzip ? '.gz' : ''}`);
    const hash = createHash('sha256');
    const source = await open(file.path, 'r');
    try {
      const target = await open(path, 'wx', 0o600);
      try {
        const buffer = Buffer.allocUnsafe(MiB);
        for (;;) {
          const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          hash.update(chunk);
          await target.write(chunk);
        }
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
    return { path, sha256: hash.digest('hex') };
  }

  /**
   * A plain JSON Lines copy of `file` with only the lines that are JSON (a UTF-8 byte order
   * mark before the first is dropped); the others are returned by line number. The sha256 is
   * that of the bytes read, as for `make`.
   */
  async makeByLine(file: ProbedFile): Promise<{ path: string; sha256: string; badLines: Array<{ line: number; reason: string }> }> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'trailhound-load-'));
    const path = join(this.dir, `input-${this.next++}.jsonl`);
    const hash = createHash('sha256');
    const raw = createReadStream(file.path);
    raw.on('data', (chunk) => hash.update(chunk));
    const text = file.gzip ? raw.pipe(createGunzip()) : raw;
    raw.on('error', (error) => text.destroy(error));
    const badLines: Array<{ line: number; reason: string }> = [];
    const target = await open(path, 'wx', 0o600);
    try {
      let line = 0;
      for await (const content of createInterface({ input: text, crlfDelay: Infinity })) {
        line++;
        const json = line === 1 ? content.replace(/^\uFEFF/, '') : content;
        if (json.trim() === '') continue;
        try {
          JSON.parse(json);
        } catch (error) {
          badLines.push({ line, reason: `malformed JSON (${clip((error as Error).message)})` });
          continue;
        }
        await target.write(`${json}\n`);
      }
    } finally {
      await target.close();
    }
    return { path, sha256: hash.digest('hex'), badLines };
  }

  /** Removes the copies of the batch just loaded. */
  async clear(): Promise<void> {
    if (!this.dir) return;
    await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  async dispose(): Promise<void> {
    await this.clear();
  }
}
