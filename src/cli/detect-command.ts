import { join } from 'node:path';
import { ExitCode, UsageError } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import { loadCatalog, loadSensitiveEvents, SEVERITIES, type Detection, type SensitiveEvent, type Severity } from '../detect/catalog.js';
import { runDetections } from '../detect/runner.js';
import { renderTable } from '../report/tabular.js';
import { terminalSafe } from '../report/text-safety.js';
import { Store } from '../store/store.js';
import { parseScope, storePath } from './options.js';

/** The detections shipped in queries/. */
export function shippedCatalog(): Detection[] {
  return loadCatalog(join(packageRoot(), 'queries'));
}

/** The sensitive-calls catalog shipped in queries/sensitive-events.yml. */
export function shippedSensitiveEvents(): SensitiveEvent[] {
  return loadSensitiveEvents(join(packageRoot(), 'queries', 'sensitive-events.yml'));
}

function pick(catalog: Detection[], only: readonly string[] | undefined): Detection[] {
  const ids = only?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (!ids?.length) return catalog;
  const unknown = ids.filter((id) => !catalog.some((d) => d.id === id));
  if (unknown.length) throw new UsageError(`no detection named ${unknown.join(', ')}; "trailhound detections" lists them`);
  return catalog.filter((d) => ids.includes(d.id));
}

/** `trailhound detect`: runs the detections, stores the findings, prints them by time. */
export async function detectCommand(opts: {
  readonly db?: string;
  readonly only?: string[];
  readonly minSeverity?: string;
  readonly since?: string;
  readonly until?: string;
  readonly format: 'table' | 'json';
}): Promise<void> {
  if (opts.minSeverity && !SEVERITIES.includes(opts.minSeverity as Severity)) {
    throw new UsageError(`--min-severity takes one of ${SEVERITIES.join(', ')}`);
  }
  const scope = parseScope(opts);
  const catalog = shippedCatalog();
  const detections = pick(catalog, opts.only);
  const store = await Store.open(storePath(opts), { mustExist: true });
  try {
    const result = await runDetections(store, detections, {
      sensitive: shippedSensitiveEvents(),
      catalog,
      ...(scope.since ? { since: scope.since } : {}),
      ...(scope.until ? { until: scope.until } : {}),
      ...(opts.minSeverity ? { minSeverity: opts.minSeverity as Severity } : {}),
    });
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify({ runId: result.runId, detections: result.detections, findings: result.findings, failures: result.failures }, null, 2)}\n`);
    } else {
      const rows = result.findings.map((f) => ({ time: f.eventTime, severity: f.severity, detection: f.detection, actor: f.actor, ip: f.sourceIp, region: f.region, summary: f.summary }));
      process.stdout.write(renderTable({ columns: ['time', 'severity', 'detection', 'actor', 'ip', 'region', 'summary'], rows }, 'table'));
      for (const failure of result.failures) process.stderr.write(`trailhound: detection ${failure.detection} failed: ${terminalSafe(failure.reason)}\n`);
    }
    process.exitCode = result.failures.length > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    store.close();
  }
}

/** `trailhound detections`: the catalog. */
export function detectionsCommand(opts: { readonly format: 'table' | 'json' }): void {
  const catalog = shippedCatalog();
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(catalog.map(({ sql: _sql, path: _path, tests: _tests, ...meta }) => meta), null, 2)}\n`);
    return;
  }
  const rows = catalog.map((d) => ({ id: d.id, severity: d.severity, attempt: d.attemptSeverity ?? '', techniques: d.techniques.join(' '), title: d.title }));
  process.stdout.write(renderTable({ columns: ['id', 'severity', 'attempt', 'techniques', 'title'], rows }, 'table'));
}
