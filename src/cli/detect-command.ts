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
import { commaList, memoryLimit, parseMinSeverity, parseScope } from './options.js';

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
function printFindings(result: DetectSummary, format: 'text' | 'json', extra: Record<string, unknown> = {}): void {
  const alerts = result.alerts;
  if (format === 'json') {
    // Written alert by alert, one a line: a noisy account has hundreds of thousands, and one string of them all would
    // double the peak memory (indented, they would also take half as long again to write and a third more room).
    const whole = JSON.stringify({ runId: result.runId, detections: result.detections, matches: result.matches, findings: [], failures: result.failures, ...extra }, null, 2);
    const at = whole.indexOf('\n  "findings": []') + '\n  "findings": ['.length;
    process.stdout.write(whole.slice(0, at));
    for (let i = 0; i < alerts.length; i += 1000) {
      const batch = alerts.slice(i, i + 1000).map((a) => `\n    ${JSON.stringify(a)}`);
      process.stdout.write(`${batch.join(',')}${i + 1000 < alerts.length ? ',' : '\n  '}`);
    }
    process.stdout.write(`${whole.slice(at)}\n`);
  } else {
    const rows = alerts.map((a) => ({ time: a.firstTime, severity: a.severity, detection: a.detection, count: a.count, actor: a.actor, ip: a.sourceIp, region: a.region, summary: a.summary }));
    process.stdout.write(renderTable({ columns: ['time', 'severity', 'detection', 'count', 'actor', 'ip', 'region', 'summary'], rows }, 'table'));
    for (const failure of result.failures) process.stderr.write(`trailhound: detection ${failure.detection} failed: ${terminalSafe(failure.reason)}\n`);
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
  const scope = parseScope(opts);
  if (opts.geoipDb || opts.asnDb) useDatabases({ ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}), ...(opts.asnDb ? { asnDb: opts.asnDb } : {}) });
  await withEngine(opts, { mustExist: true, sealed: true, memoryLimit: memoryLimit(opts.memoryLimit ?? DETECT_MEMORY_LIMIT) }, async (engine, signal) => {
    const result = await engine.detect({
      detections,
      sensitive: shippedSensitiveEvents(),
      catalog,
      scope,
      ...(minSeverity ? { minSeverity } : {}),
      ...(iocs?.indicators.length ? { indicators: iocs.indicators } : {}),
      ...(signal ? { signal } : {}),
    });
    printFindings(result, opts.format, { ...sigmaSummary(sigma), ...(iocs ? { ioc: { indicators: iocs.indicators.length, problems: iocs.problems } } : {}), ...result.extra });
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
