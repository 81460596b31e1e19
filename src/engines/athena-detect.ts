/**
 * `detect --engine athena`: the detections of queries/ run on Athena over the organisation's
 * CloudTrail table, one query each, mapped to findings by the same function as on DuckDB;
 * or (`--pull-candidates`) most of them locally on their events pulled in one scan.
 */
import { randomBytes } from 'node:crypto';
import { isoSeconds } from '../core/time.js';
import { mapLimit } from '../core/pool.js';
import type { Detection, SensitiveEvent, Severity } from '../detect/catalog.js';
import { alertArray, groupAlerts } from '../detect/alerts.js';
import { sortFindings, type Finding } from '../detect/finding.js';
import { atLeast, eventNamesOf, runDetections, toFindings, type ContractRow, type DetectionFailure, type DetectResult } from '../detect/runner.js';
import { Store } from '../store/store.js';
import { AthenaCancelledError, ScanLimitError, type AthenaRunner } from './athena-client.js';
import { renderDetection, runsOnAthena } from './athena-render.js';
import { ingestFromAthena } from './athena-ingest.js';
import { athenaWhere } from './athena-source.js';
import { eventsRelation, type AthenaTable, type Constraint, type Window } from './athena-table.js';
import { NotPortableError } from './dialect.js';

/** Options of an Athena detect run. */
export interface AthenaDetectOptions {
  readonly window: Window;
  readonly minSeverity?: Severity;
  readonly sensitive: readonly SensitiveEvent[];
  /** The whole catalog, which decides which sensitive calls are covered (default: the detections run). */
  readonly catalog?: readonly Detection[];
  /** Queries in flight at once (default 4; Athena limits the active queries of an account, see its service quotas). */
  readonly concurrency?: number;
  /** Aborting stops the running queries on Athena. */
  readonly signal?: AbortSignal;
  /** Warnings for stderr: skipped detections, unconstrained partitions. */
  readonly onWarning?: (message: string) => void;
}

/** A detection that did not run on Athena, and why. */
export interface SkippedDetection {
  readonly detection: string;
  readonly reason: string;
}

/** The result of an Athena detect run: the DuckDB run's shape, plus what was skipped and the cost. */
export interface AthenaDetectResult extends DetectResult {
  readonly skipped: readonly SkippedDetection[];
  readonly queries: number;
  readonly dataScannedBytes: number;
  readonly costUsd: number;
}

/** Refuses, under a scan limit, a window that does not constrain the table's date partitions. */
export function checkScanGuard(table: AthenaTable, constraint: Constraint, maxScanBytes: number | undefined, warn: (message: string) => void): void {
  if (constraint.dateBounded) return;
  const why = table.partitioning.date
    ? 'no --since was given, so every day of the table would be scanned'
    : `${table.database}.${table.table} has no date partition trailhound recognises (partition keys: ${[table.partitioning.region, table.partitioning.account, ...table.partitioning.others].filter(Boolean).join(', ') || 'none'}), so every query scans the whole table`;
  if (maxScanBytes !== undefined) {
    throw new ScanLimitError(`refusing to query Athena under --max-scan-gb: ${why}; pass --since (and --until), or use a table partitioned by date ("trailhound athena ddl" prints one)`);
  }
  warn(`${why}; pass --since/--until, and --max-scan-gb to cap what a query may scan`);
}

/** An Athena row in the contract columns, as the DuckDB runner sees it: ISO times without zero milliseconds, `eventids` as a list. */
export function contractRow(row: Readonly<Record<string, string | null>>, hasEventIds: boolean, hasSeverity = false): ContractRow {
  const text = (name: string) => row[name] ?? null;
  const time = text('eventtime');
  return {
    eventtime: time === null ? null : new Date(time).toISOString().replace(/\.000Z$/, 'Z'),
    eventid: text('eventid'),
    eventname: text('eventname'),
    actor: text('actor'),
    access_key_id: text('access_key_id'),
    sourceipaddress: text('sourceipaddress'),
    account: text('account'),
    region: text('region'),
    resource: text('resource'),
    outcome: text('outcome'),
    summary: text('summary'),
    ...(hasEventIds ? { eventids: row['eventids'] ? (JSON.parse(row['eventids']) as string[]) : null } : {}),
    ...(hasSeverity ? { severity: text('severity') } : {}),
  };
}

/** Runs detections on Athena; a detection that cannot run there is skipped with a warning, one that fails is a failure. */
export async function runAthenaDetections(runner: AthenaRunner, table: AthenaTable, detections: readonly Detection[], options: AthenaDetectOptions): Promise<AthenaDetectResult> {
  const runId = `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
  const warn = options.onWarning ?? (() => undefined);
  const catalog = options.catalog ?? detections;
  const skipped: SkippedDetection[] = [];
  const planned: Array<{ detection: Detection; sql: string; hasEventIds: boolean; hasSeverity?: boolean; constraint: Constraint }> = [];
  for (const detection of detections) {
    if (!runsOnAthena(detection)) {
      skipped.push({ detection: detection.id, reason: `runs on DuckDB only: ${detection.engineNote ?? 'see its metadata'}` });
      continue;
    }
    try {
      planned.push({ detection, ...renderDetection(detection, { table, window: options.window, sensitive: options.sensitive, catalog }) });
    } catch (error) {
      if (!(error instanceof NotPortableError)) throw error;
      skipped.push({ detection: detection.id, reason: error.message });
    }
  }
  for (const s of skipped) warn(`detection ${s.detection} skipped on Athena: ${s.reason}`);
  if (planned.length > 0) checkScanGuard(table, planned[0]!.constraint, runner.settings.maxScanBytes, warn);
  const before = { ...runner.totals };
  const findings: Finding[] = [];
  const failures: DetectionFailure[] = [];
  // Ctrl-C or the scan limit stops every query in flight, not only the one that saw it.
  const stop = new AbortController();
  const forward = () => stop.abort();
  options.signal?.addEventListener('abort', forward, { once: true });
  let fatal: unknown;
  try {
    await mapLimit(planned, options.concurrency ?? 4, async ({ detection, sql, hasEventIds, hasSeverity }) => {
      if (stop.signal.aborted) return;
      try {
        const result = await runner.query(sql, { label: detection.id, signal: stop.signal });
        const rows = result.rows.map((row) => contractRow(row, hasEventIds, hasSeverity));
        for (const finding of toFindings(detection, rows)) if (atLeast(finding.severity, options.minSeverity)) findings.push(finding);
      } catch (error) {
        if (error instanceof AthenaCancelledError || error instanceof ScanLimitError) {
          fatal ??= error;
          stop.abort();
          return;
        }
        failures.push({ detection: detection.id, reason: ((error as Error).message ?? String(error)).split('\n')[0]! });
      }
    });
  } finally {
    options.signal?.removeEventListener('abort', forward);
  }
  if (fatal) throw fatal;
  sortFindings(findings);
  failures.sort((a, b) => (a.detection < b.detection ? -1 : 1));
  return {
    runId,
    detections: planned.length,
    findings,
    matches: findings.length,
    alerts: alertArray(groupAlerts(findings)),
    failures,
    skipped,
    queries: runner.totals.queries - before.queries,
    dataScannedBytes: runner.totals.dataScannedBytes - before.dataScannedBytes,
    costUsd: runner.totals.costUsd - before.costUsd,
  };
}

/** Events of one name above this count stay on Athena rather than come back as candidates. */
const CANDIDATE_LIMIT_PER_NAME = 20_000;

/** What the candidate pull did. */
export interface CandidatePull {
  /** Event names pulled, and those left on Athena because they are too common in the window. */
  readonly names: readonly string[];
  readonly common: readonly string[];
  readonly events: number;
  /** Detections run locally on the candidates. */
  readonly local: number;
}

/**
 * detect on Athena, cheaper: the detections limited to a few event names (most of the
 * catalog) run locally on those events, pulled in one scan; the others (behavioural ones,
 * and those naming an event too common to pull) run on Athena. Two scans plus one per
 * remaining detection, instead of one per detection. Same SQL, same findings.
 */
export async function runAthenaDetectionsPulling(
  runner: AthenaRunner,
  table: AthenaTable,
  detections: readonly Detection[],
  options: AthenaDetectOptions & {
    /** Where the pulled candidates are written before they load (a temporary folder). */
    readonly cacheDir: string;
    /** Events of one name above this count stay on Athena (default 20,000). */
    readonly candidateLimit?: number;
  },
): Promise<AthenaDetectResult & { readonly candidates: CandidatePull }> {
  const catalog = options.catalog ?? detections;
  const covered = new Set(catalog.flatMap((d) => eventNamesOf(d.sql)));
  const uncovered = options.sensitive.filter((e) => !covered.has(e.name) && e.severity !== 'info').map((e) => e.name);
  const namesFor = (d: Detection) => [...eventNamesOf(d.sql), ...(/\bsensitive_events\b/.test(d.sql) ? uncovered : [])];
  const named = detections.filter((d) => namesFor(d).length > 0);
  const names = [...new Set(named.flatMap(namesFor))].sort();
  const before = { ...runner.totals };
  const signal = options.signal;
  let counts = new Map<string, number>();
  if (names.length > 0) {
    const events = eventsRelation(table, options.window);
    checkScanGuard(table, events.constraint, runner.settings.maxScanBytes, options.onWarning ?? (() => undefined));
    const where = athenaWhere({ eventNames: names });
    const result = await runner.query(
      `-- trailhound detect: candidate counts
with events as (
  ${events.sql}
)
select eventname, count(*) as n
from events
where ${where.sql}
group by eventname`,
      { label: 'candidate counts', parameters: where.parameters, ...(signal ? { signal } : {}) },
    );
    counts = new Map(result.rows.map((r) => [r['eventname'] ?? '', Number(r['n'] ?? 0)]));
  }
  const common = new Set(names.filter((n) => (counts.get(n) ?? 0) > (options.candidateLimit ?? CANDIDATE_LIMIT_PER_NAME)));
  const local = named.filter((d) => !namesFor(d).some((n) => common.has(n)));
  const pulled = [...new Set(local.flatMap(namesFor))].filter((n) => (counts.get(n) ?? 0) > 0).sort();
  const store = await Store.open(':memory:');
  let localResult: DetectResult | undefined;
  let events = 0;
  try {
    if (pulled.length > 0) {
      const summary = await ingestFromAthena({ store, runner, table, window: options.window, pull: { kind: 'filter', filter: { eventNames: pulled } }, cacheDir: options.cacheDir, ...(signal ? { signal } : {}) });
      events = summary.eventsLoaded;
    }
    localResult = await runDetections(store, local, {
      sensitive: options.sensitive,
      catalog,
      ...(options.window.since ? { since: options.window.since } : {}),
      ...(options.window.until ? { until: options.window.until } : {}),
      ...(options.minSeverity ? { minSeverity: options.minSeverity } : {}),
    });
  } finally {
    store.close();
  }
  const remote = await runAthenaDetections(runner, table, detections.filter((d) => !local.includes(d)), options);
  const findings = sortFindings([...localResult.findings, ...remote.findings]);
  return {
    ...remote,
    detections: remote.detections + local.length,
    findings,
    matches: findings.length,
    alerts: alertArray(groupAlerts(findings)),
    failures: [...localResult.failures, ...remote.failures].sort((a, b) => (a.detection < b.detection ? -1 : 1)),
    queries: runner.totals.queries - before.queries,
    dataScannedBytes: runner.totals.dataScannedBytes - before.dataScannedBytes,
    costUsd: runner.totals.costUsd - before.costUsd,
    candidates: { names: pulled, common: [...common].sort(), events, local: local.length },
  };
}
