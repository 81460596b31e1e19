import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { analyze } from '../analyze/analyze.js';
import { duckdbSource } from '../analyze/duckdb-source.js';
import { lineageLines } from '../analyze/render.js';
import { ingestFiles } from '../ingest/pipeline.js';
import { QUERY_MAX_ROWS, runQuery } from '../store/query.js';
import { storeStats, type RankedTable, type StoreStats } from '../store/stats.js';
import { counted } from '../core/words.js';
import { ExitCode } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import { planFromStore, timelineFromStore } from '../report/from-store.js';
import { stateSummary } from '../report/plan-renderers.js';
import { creatingChanges, nowView } from '../snapshot/join.js';
import { nowLines } from '../snapshot/render.js';
import { loadSnapshot } from '../snapshot/store.js';
import { renderTimelineHtml } from '../report/html-renderer.js';
import { renderTable, type TableFormat } from '../report/tabular.js';
import { terminalSafe } from '../report/text-safety.js';
import { compactStore } from '../store/compact.js';
import { Store, isStoreFile } from '../store/store.js';
import { OLD_LAYOUT_HINT } from '../store/segments.js';
import { runDetections } from '../detect/runner.js';
import { DEMO_LEAKED_KEY_ID as LEAKED_KEY_ID } from '../core/demo.js';
import { shippedCatalog, shippedSensitiveEvents } from './detect-command.js';
import { formatSummary } from './ingest-command.js';
import { defaultIngestMemory, memoryLimit, positiveNumber, storePath } from './options.js';
import { writeOutputFile } from './output-file.js';

/** `trailhound query SQL`: a read-only statement, rendered as a table, CSV or JSON. */
export async function queryCommand(sql: string, opts: { readonly db?: string; readonly format: 'text' | Exclude<TableFormat, 'table'>; readonly maxRows?: string }): Promise<void> {
  const maxRows = opts.maxRows === undefined ? QUERY_MAX_ROWS : Math.floor(positiveNumber('--max-rows', opts.maxRows));
  const store = await Store.open(storePath(opts), { readOnly: true });
  try {
    const result = await runQuery(store, sql, maxRows);
    process.stdout.write(renderTable(result, opts.format === 'text' ? 'table' : opts.format));
    if (result.truncated) process.stderr.write(`query: more than ${maxRows.toLocaleString('en-US')} rows; only the first are shown (aggregate, add a where clause, or raise --max-rows)\n`);
  } finally {
    store.close();
  }
}

/** `trailhound stats`: what the store holds. */
export async function statsCommand(opts: { readonly db?: string; readonly format: 'text' | 'json' }): Promise<void> {
  const store = await Store.open(storePath(opts), { readOnly: true });
  try {
    const stats = await storeStats(store);
    process.stdout.write(opts.format === 'json' ? `${JSON.stringify(statsJson(stats), null, 2)}\n` : formatStats(stats));
  } finally {
    store.close();
  }
}

/** `trailhound compact`: the store written again, its segments merged and ordered by key and time; safe to kill. */
export async function compactCommand(opts: { readonly db?: string; readonly format: 'text' | 'json'; readonly memoryLimit?: string }): Promise<void> {
  const path = storePath(opts);
  const s = await compactStore(path, { memoryLimit: memoryLimit(opts.memoryLimit ?? defaultIngestMemory()) });
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const n = (x: number) => x.toLocaleString('en-US');
  process.stdout.write(
    `Compacted ${counted(s.events, 'event')} in ${terminalSafe(path)} (${s.seconds} s)\n` +
      `  segments ${s.segmentsBefore} -> ${s.segmentsAfter}\n` +
      `  row groups of the most spread access key ${n(s.busiestKeyRowGroupsBefore)} -> ${n(s.busiestKeyRowGroupsAfter)}\n` +
      `  store file ${mib(s.bytesBefore)} -> ${mib(s.bytesAfter)}\n` +
      `  sorted in ${counted(s.slices, 'slice')} within the memory limit\n` +
      (s.recordsBefore === s.recordsAfter ? '' : `  records stored ${s.recordsBefore} -> ${s.recordsAfter}\n`),
  );
}

function statsJson(stats: StoreStats): Record<string, unknown> {
  const ranked = (t: RankedTable) => ({ total: t.total, rows: t.rows });
  return {
    ...stats,
    byAccount: stats.byAccount.rows,
    byRegion: stats.byRegion.rows,
    byDay: stats.byDay.rows,
    bySource: stats.bySource.rows,
    byKey: ranked(stats.byKey),
    byPrincipal: ranked(stats.byPrincipal),
    byAddress: ranked(stats.byAddress),
  };
}

function formatStats(stats: StoreStats): string {
  const head = [
    `${counted(stats.events, 'event')}, ${stats.firstEventTime ?? '-'} .. ${stats.lastEventTime ?? '-'}`,
    `inputs: ${stats.inputs.loaded} loaded, ${stats.inputs.skipped} skipped, ${counted(stats.inputs.digests, 'digest')}; ${counted(stats.runs, 'ingest run')}`,
    `records left out ${stats.records.rejected}, conflicting events ${stats.records.conflicts} (trailhound query "select * from record_issues")`,
    `store ${(stats.layout.bytes / 2 ** 20).toFixed(1)} MiB, ${stats.layout.records === 'zstd' ? 'records compressed (zstd)' : `older layout, records not compressed with zstd (${OLD_LAYOUT_HINT})`}`,
    ...(stats.layout.olderSegmentEvents > 0
      ? [`${counted(stats.layout.olderSegmentEvents, 'event')} in segments of an earlier release read ${stats.layout.olderSegmentColumns.join(', ')} out of their records, which is slower; "trailhound compact" stores them`]
      : []),
  ].join('\n');
  const sections = [
    ['By account', stats.byAccount],
    ['By region', stats.byRegion],
    ['By day', stats.byDay],
    ['By event source', stats.bySource],
  ] as const;
  const rankings = [
    ['Access keys', 'key', stats.byKey],
    ['Principals', 'principal', stats.byPrincipal],
    ['Source addresses', 'address', stats.byAddress],
  ] as const;
  const ranked = rankings.map(
    ([title, noun, table]) =>
      `\n${title} (${counted(table.total, noun)}${table.total > table.rows.length ? `, the ${table.rows.length} most active` : ''})\n${renderTable(table, 'table')}`,
  );
  return `${head}\n${sections.map(([title, table]) => `\n${title}\n${renderTable(table, 'table')}`).join('')}${ranked.join('')}`;
}

/** `trailhound demo`: a fresh store from the bundled scenario, its ingest summary, a first look at the leaked key and the HTML timeline beside the store. */
export async function demoCommand(opts: { readonly db: string; readonly format: 'text' | 'json' }): Promise<void> {
  // The demo store is made afresh, but only a store is ever removed: a --db naming anything else is refused.
  if (!existsSync(opts.db) || isStoreFile(opts.db)) {
    await rm(opts.db, { force: true });
    await rm(`${opts.db}.wal`, { force: true });
  }
  const store = await Store.open(opts.db);
  try {
    const summary = await ingestFiles({ paths: [join(packageRoot(), 'fixtures', 'demo')], store });
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      process.stdout.write(formatSummary(summary, opts.db));
      const keys = await store.all(
        `select access_key_id, principal_arn, count(*)::bigint as events, count(distinct sourceipaddress)::bigint as ips,
                count(distinct awsregion)::bigint as regions, min(eventtime) as first, max(eventtime) as last
         from events
         where access_key_id like 'AKIA%'
         group by all
         order by first`,
      );
      process.stdout.write(`\nLong-term access keys seen (AKIA…):\n${renderTable({ columns: ['access_key_id', 'principal_arn', 'events', 'ips', 'regions', 'first', 'last'], rows: keys }, 'table')}`);
      const detected = await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
      const rows = detected.findings.map((f) => ({ time: f.eventTime, severity: f.severity, detection: f.detection, ip: f.sourceIp, summary: f.summary }));
      process.stdout.write(`\nFindings (trailhound detect):\n${renderTable({ columns: ['time', 'severity', 'detection', 'ip', 'summary'], rows }, 'table')}`);
      const found = await analyze(duckdbSource(store), { keys: [LEAKED_KEY_ID], ips: [], principals: [], sessions: [] });
      const snap = await loadSnapshot(store);
      const leaked = snap ? { ...found, now: await nowView(store, snap, creatingChanges([found.blastRadius]), found.coverage) } : found;
      process.stdout.write(`\nCredential lineage of the leaked key (trailhound analyze --key ${LEAKED_KEY_ID}):\n${lineageLines(leaked.lineage, terminalSafe).map((l) => `  ${l}\n`).join('')}`);
      if (leaked.now) process.stdout.write(`\n${nowLines(leaked.now, terminalSafe).join('\n')}\n`);
      const plan = await planFromStore(store);
      const open = plan.steps.flatMap((s) => s.actions.filter((a) => a.state === 'open'));
      if (plan.snapshot) {
        process.stdout.write(`\nRemediation plan against the snapshot (trailhound remediate): ${stateSummary(plan)}\n`);
        for (const a of open) process.stdout.write(`  open  ${a.kind} ${terminalSafe(a.target)}${a.region ? ` (${a.region})` : ''}: ${terminalSafe(a.stateEvidence ?? '')}\n`);
        process.stdout.write('  ("trailhound remediate --verify" exits 3 until a new snapshot shows them done)\n');
      }
      const html = `${opts.db.replace(/\.duckdb$/, '')}.html`;
      await writeOutputFile(html, renderTimelineHtml(await timelineFromStore(store)), opts.db);
      process.stdout.write(`\nTimeline and remediation plan: ${html} (open it in a browser; "trailhound timeline" and "trailhound remediate" give the other formats)\n`);
      process.stdout.write(`\nNext: trailhound analyze --db ${opts.db} --key ${LEAKED_KEY_ID}\n`);
    }
    process.exitCode = summary.skipped.length > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    store.close();
  }
}
