import { join } from 'node:path';
import { ExitCode, UsageError } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import { loadCatalog, loadSensitiveEvents, type Detection, type SensitiveEvent, type Severity } from '../detect/catalog.js';
import { groupAlerts } from '../detect/alerts.js';
import { runDetections, type DetectResult } from '../detect/runner.js';
import { useDatabases } from '../enrich/enricher.js';
import { iocDetection, loadIocFiles, prepareIocTables } from '../enrich/ioc.js';
import { renderTable } from '../report/tabular.js';
import { terminalSafe } from '../report/text-safety.js';
import { Store } from '../store/store.js';
import { sigmaForCli, sigmaSummary, type SigmaCliOptions } from './sigma-options.js';
import { openAthena, totalsLine, wantsAthena, withInterrupt, type AthenaCliOptions } from './athena-command.js';
import { commaList, memoryLimit, parseMinSeverity, parseScope, positiveNumber, storePath } from './options.js';

/** The detections shipped in queries/. */
export function shippedCatalog(): Detection[] {
  return loadCatalog(join(packageRoot(), 'queries'));
}

/** The sensitive-calls catalog shipped in queries/sensitive-events.yml. */
export function shippedSensitiveEvents(): SensitiveEvent[] {
  return loadSensitiveEvents(join(packageRoot(), 'queries', 'sensitive-events.yml'));
}

function pick(catalog: Detection[], only: readonly string[] | undefined): Detection[] {
  const ids = commaList(only);
  if (!ids.length) return catalog;
  const unknown = ids.filter((id) => !catalog.some((d) => d.id === id));
  if (unknown.length) throw new UsageError(`no detection named ${unknown.join(', ')}; "trailhound detections" lists them`);
  return catalog.filter((d) => ids.includes(d.id));
}

/** Options of `trailhound detect`. */
export interface DetectCliOptions extends AthenaCliOptions, SigmaCliOptions {
  readonly db?: string;
  readonly only?: string[];
  readonly minSeverity?: string;
  readonly since?: string;
  readonly until?: string;
  readonly region?: string[];
  readonly account?: string[];
  readonly athenaConcurrency?: string;
  readonly pullCandidates?: boolean;
  readonly memoryLimit?: string;
  readonly ioc?: string[];
  readonly geoipDb?: string;
  readonly asnDb?: string;
  readonly format: 'table' | 'json';
}

/** Prints a run as alerts (raw matches grouped); JSON keeps them under `findings`, with `matches` the raw count. */
function printFindings(result: DetectResult, format: 'table' | 'json', extra: Record<string, unknown> = {}): void {
  const alerts = groupAlerts(result.findings);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ runId: result.runId, detections: result.detections, matches: result.findings.length, findings: alerts, failures: result.failures, ...extra }, null, 2)}\n`);
  } else {
    const rows = alerts.map((a) => ({ time: a.firstTime, severity: a.severity, detection: a.detection, count: a.count, actor: a.actor, ip: a.sourceIp, region: a.region, summary: a.summary }));
    process.stdout.write(renderTable({ columns: ['time', 'severity', 'detection', 'count', 'actor', 'ip', 'region', 'summary'], rows }, 'table'));
    for (const failure of result.failures) process.stderr.write(`trailhound: detection ${failure.detection} failed: ${terminalSafe(failure.reason)}\n`);
  }
}

/** `trailhound detect --engine athena`: the same detections over the organisation's CloudTrail table. */
async function detectOnAthena(opts: DetectCliOptions, detections: Detection[], catalog: Detection[], sigma: Record<string, unknown>, minSeverity: Severity | undefined): Promise<void> {
  const scope = parseScope(opts);
  const { runAthenaDetections, runAthenaDetectionsPulling } = await import('../engines/athena-detect.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { runner, table } = await openAthena(opts);
  const cacheDir = opts.pullCandidates ? mkdtempSync(join(tmpdir(), 'trailhound-candidates-')) : undefined;
  try {
    const result = await withInterrupt((signal) => {
      const options = {
        window: { ...(scope.since ? { since: scope.since } : {}), ...(scope.until ? { until: scope.until } : {}), ...(scope.regions ? { regions: scope.regions } : {}), ...(scope.accounts ? { accounts: scope.accounts } : {}) },
        sensitive: shippedSensitiveEvents(),
        catalog,
        signal,
        ...(minSeverity ? { minSeverity } : {}),
        ...(opts.athenaConcurrency ? { concurrency: Math.floor(positiveNumber('--athena-concurrency', opts.athenaConcurrency)) } : {}),
        onWarning: (message: string) => process.stderr.write(`trailhound: ${terminalSafe(message)}\n`),
      };
      return cacheDir ? runAthenaDetectionsPulling(runner, table, detections, { ...options, cacheDir }) : runAthenaDetections(runner, table, detections, options);
    });
    const candidates = 'candidates' in result ? { candidates: result.candidates } : {};
    printFindings(result, opts.format, { ...sigma, skipped: result.skipped, athena: { queries: result.queries, dataScannedBytes: result.dataScannedBytes, costUsd: result.costUsd, ...candidates } });
    process.exitCode = result.failures.length > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    process.stderr.write(`${totalsLine(runner)}\n`);
    runner.close();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * DuckDB's memory limit for local detections. Beyond it DuckDB spills to disk: on 10M events
 * the run took 70 s with 2.4 GiB at its peak, against 80 s and 12 GiB with DuckDB's default
 * (80% of the machine's memory).
 */
export const DETECT_MEMORY_LIMIT = '2GB';

/** `trailhound detect`: runs the detections, stores the findings, prints them by time. */
export async function detectCommand(opts: DetectCliOptions): Promise<void> {
  const minSeverity = parseMinSeverity(opts.minSeverity);
  const catalog = shippedCatalog();
  const sigma = sigmaForCli(opts);
  const iocs = opts.ioc?.length ? loadIocFiles(opts.ioc) : undefined;
  for (const p of iocs?.problems ?? []) process.stderr.write(`trailhound: ${terminalSafe(p.source)}${p.line ? `:${p.line}` : ''}: ${terminalSafe(p.reason)}; the other indicators are used\n`);
  const detections = pick([...(opts.builtin === false ? [] : catalog), ...sigma.detections, ...(iocs?.indicators.length ? [iocDetection()] : [])], opts.only);
  if (detections.length === 0) throw new UsageError('no detection to run: --no-builtin needs --sigma with at least one rule that translates, or --ioc with indicators');
  if (wantsAthena(opts)) {
    if (iocs || opts.geoipDb || opts.asnDb) throw new UsageError('--ioc, --geoip-db and --asn-db apply to the local store only; pull the events with ingest --athena, then detect locally');
    return detectOnAthena(opts, detections, catalog, sigmaSummary(sigma), minSeverity);
  }
  if (opts.geoipDb || opts.asnDb) useDatabases({ ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}), ...(opts.asnDb ? { asnDb: opts.asnDb } : {}) });
  if (opts.region?.length || opts.account?.length || opts.athenaConcurrency || opts.pullCandidates) {
    throw new UsageError('--region, --account, --athena-concurrency and --pull-candidates apply to --engine athena only; the store is searched whole');
  }
  const scope = parseScope(opts);
  const store = await Store.open(storePath(opts), { mustExist: true, sealed: true, memoryLimit: memoryLimit(opts.memoryLimit ?? DETECT_MEMORY_LIMIT) });
  try {
    if (iocs?.indicators.length) await prepareIocTables(store, iocs.indicators);
    const result = await runDetections(store, detections, {
      sensitive: shippedSensitiveEvents(),
      catalog,
      ...(scope.since ? { since: scope.since } : {}),
      ...(scope.until ? { until: scope.until } : {}),
      ...(minSeverity ? { minSeverity } : {}),
    });
    printFindings(result, opts.format, { ...sigmaSummary(sigma), ...(iocs ? { ioc: { indicators: iocs.indicators.length, problems: iocs.problems } } : {}) });
    process.exitCode = result.failures.length > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    store.close();
  }
}

/** `trailhound detections`: the catalog. */
export function detectionsCommand(opts: { readonly format: 'table' | 'json' } & SigmaCliOptions): void {
  const catalog = shippedCatalog();
  const sigma = sigmaForCli({ ...opts, quiet: true });
  if (opts.format === 'json') {
    const listed = [...catalog, ...sigma.detections].map(({ sql: _sql, path: _path, tests: _tests, ...meta }) => meta);
    const untranslated = sigma.untranslated.map((u) => ({ id: u.id ? `sigma:${u.id.toLowerCase()}` : null, path: u.path, runs: false, reason: u.reason }));
    process.stdout.write(`${JSON.stringify([...listed, ...untranslated], null, 2)}\n`);
    return;
  }
  const rows = [
    ...[...catalog, ...sigma.detections].map((d) => ({ id: d.id, severity: d.severity, attempt: d.attemptSeverity ?? '', techniques: d.techniques.join(' '), title: d.title })),
    ...sigma.untranslated.map((u) => ({ id: u.id ? `sigma:${u.id.toLowerCase()}` : u.path, severity: '', attempt: '', techniques: '', title: `not run: ${u.reason}` })),
  ];
  process.stdout.write(renderTable({ columns: ['id', 'severity', 'attempt', 'techniques', 'title'], rows }, 'table'));
}
