import { join } from 'node:path';
import { ExitCode, UsageError } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import { loadCatalog, loadSensitiveEvents, type Detection, type SensitiveEvent } from '../detect/catalog.js';
import type { DetectSummary } from '../detect/runner.js';
import { useDatabases } from '../enrich/enricher.js';
import { iocDetection, loadIocFiles } from '../enrich/ioc.js';
import { renderTable } from '../report/tabular.js';
import { terminalSafe } from '../report/text-safety.js';
import { sigmaForCli, sigmaSummary, type SigmaCliOptions } from './sigma-options.js';
import { withEngine, type EngineCliOptions } from './engine-options.js';
import { commaList, memoryBytes, parseMinSeverity, parseScope } from './options.js';

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
export interface DetectCliOptions extends EngineCliOptions, SigmaCliOptions {
  readonly only?: string[];
  readonly minSeverity?: string;
  readonly since?: string;
  readonly until?: string;
  readonly region?: string[];
  readonly account?: string[];
  readonly memoryLimit?: string;
  readonly format: 'text' | 'json';
}

/** Prints a run as alerts (raw matches grouped); JSON keeps them under `findings`, with `matches` the raw count. */
async function printFindings(result: DetectSummary, format: 'text' | 'json', extra: Record<string, unknown> = {}): Promise<void> {
  if (format === 'json') {
    // Written a batch at a time as DuckDB gives them, one alert a line: a noisy account has hundreds of thousands,
    // and holding them all would make memory grow with them (indented, they would also take a third more room).
    const whole = JSON.stringify({ runId: result.runId, detections: result.detections, matches: result.matches, findings: [], failures: result.failures, ...extra }, null, 2);
    const at = whole.indexOf('\n  "findings": []') + '\n  "findings": ['.length;
    await write(whole.slice(0, at));
    let first = true;
    for await (const chunk of result.alerts.jsonChunks('    ')) {
      if (!first) await write(',');
      await write(chunk);
      first = false;
    }
    await write(`${result.alerts.count > 0 ? '\n  ' : ''}${whole.slice(at)}\n`);
  } else {
    const alerts = await result.alerts.all();
    const rows = alerts.map((a) => ({ time: a.firstTime, severity: a.severity, detection: a.detection, count: a.count, actor: a.actor, ip: a.sourceIp, region: a.region, summary: a.summary }));
    process.stdout.write(renderTable({ columns: ['time', 'severity', 'detection', 'count', 'actor', 'ip', 'region', 'summary'], rows }, 'table'));
  }
  // Also beside JSON: written to a file, the output alone would not show that a detection did not run.
  for (const failure of result.failures) process.stderr.write(`trailhound: detection ${failure.detection} failed: ${terminalSafe(failure.reason)}\n`);
}

/** Writes to stdout, waiting while its buffer is full (so a slow reader does not make output pile up in memory). */
function write(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) return resolve();
    const done = (error?: Error) => {
      process.stdout.off('drain', done).off('error', done);
      if (error) reject(error);
      else resolve();
    };
    process.stdout.on('drain', done).on('error', done);
  });
}

/**
 * The memory a local detect run may use, the whole process (`--memory-limit`). DuckDB works
 * within it less what the process needs besides DuckDB's buffers (see DUCKDB_OUTSIDE), and
 * spills to disk beyond that; the alerts are written a batch at a time, so their number does
 * not add to it.
 */
export const DETECT_MEMORY_LIMIT = '1.5GiB';

/**
 * What a detect process holds outside DuckDB's limit: Node.js and the client library, a batch
 * of alerts, and what DuckDB allocates beyond its buffer pool. Measured: a run on 1M events
 * with DuckDB at 1 GB peaked 0.29 GB above it.
 */
const DUCKDB_OUTSIDE = 512 * 2 ** 20;

/** DuckDB's share of a detect memory limit (`limit` checked as `memoryLimit` checks it); never below 128 MiB. */
export function duckdbShare(limit: string): string {
  return `${Math.floor(Math.max(128 * 2 ** 20, memoryBytes(limit) - DUCKDB_OUTSIDE) / 2 ** 20)}MiB`;
}

/** `trailhound detect`: runs the detections, stores the findings, prints them by time. */
export async function detectCommand(opts: DetectCliOptions): Promise<void> {
  const minSeverity = parseMinSeverity(opts.minSeverity);
  const catalog = shippedCatalog();
  const sigma = sigmaForCli(opts);
  const iocs = opts.ioc?.length ? loadIocFiles(opts.ioc) : undefined;
  for (const p of iocs?.problems ?? []) process.stderr.write(`trailhound: ${terminalSafe(p.source)}${p.line ? `:${p.line}` : ''}: ${terminalSafe(p.reason)}; the other indicators are used\n`);
  const detections = pick([...(opts.builtin === false ? [] : catalog), ...sigma.detections, ...(iocs?.indicators.length ? [iocDetection()] : [])], opts.only);
  if (detections.length === 0) throw new UsageError('no detection to run: --no-builtin needs --sigma with at least one rule that translates, or --ioc with indicators');
  const scope = parseScope(opts);
  if (opts.geoipDb || opts.asnDb) useDatabases({ ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}), ...(opts.asnDb ? { asnDb: opts.asnDb } : {}) });
  await withEngine(opts, { mustExist: true, sealed: true, memoryLimit: duckdbShare(opts.memoryLimit ?? DETECT_MEMORY_LIMIT) }, async (engine, signal) => {
    const result = await engine.detect({
      detections,
      sensitive: shippedSensitiveEvents(),
      catalog,
      scope,
      ...(minSeverity ? { minSeverity } : {}),
      ...(iocs?.indicators.length ? { indicators: iocs.indicators } : {}),
      ...(signal ? { signal } : {}),
    });
    await printFindings(result, opts.format, { ...sigmaSummary(sigma), ...(iocs ? { ioc: { indicators: iocs.indicators.length, problems: iocs.problems } } : {}), ...result.extra });
    process.exitCode = result.failures.length > 0 ? ExitCode.partial : ExitCode.ok;
  });
}

/** `trailhound detections`: the catalog. */
export function detectionsCommand(opts: { readonly format: 'text' | 'json' } & SigmaCliOptions): void {
  const catalog = shippedCatalog();
  const sigma = sigmaForCli({ ...opts, quiet: true });
  if (opts.format === 'json') {
    const listed = [...catalog, ...sigma.detections].map(({ sql: _sql, path: _path, tests: _tests, ...meta }) => meta);
    const untranslated = sigma.untranslated.map((u) => ({ id: u.id ? `sigma:${u.id.toLowerCase()}` : null, path: u.path, runs: false, reason: u.reason }));
    const correlated = (sigma.correlated ?? []).map((c) => ({ id: `sigma:${c.id}`, path: c.path, runs: false, reason: `runs only inside the correlation ${c.by}` }));
    process.stdout.write(`${JSON.stringify([...listed, ...correlated, ...untranslated], null, 2)}\n`);
    return;
  }
  const rows = [
    ...[...catalog, ...sigma.detections].map((d) => ({ id: d.id, severity: d.severity, attempt: d.attemptSeverity ?? '', techniques: d.techniques.join(' '), title: d.title })),
    ...(sigma.correlated ?? []).map((c) => ({ id: `sigma:${c.id}`, severity: '', attempt: '', techniques: '', title: `runs only inside the correlation ${c.by}` })),
    ...sigma.untranslated.map((u) => ({ id: u.id ? `sigma:${u.id.toLowerCase()}` : u.path, severity: '', attempt: '', techniques: '', title: `not run: ${u.reason}` })),
  ];
  process.stdout.write(renderTable({ columns: ['id', 'severity', 'attempt', 'techniques', 'title'], rows }, 'table'));
}
