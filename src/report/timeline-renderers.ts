/**
 * The timeline as Markdown (for an incident ticket), CSV, JSON Lines and Timesketch JSONL.
 * Pure: report in, text out. Every string from the logs is made inert for its format.
 */
import type { LineageNode } from '../analyze/types.js';
import { renderPlanMarkdown } from './plan-renderers.js';
import { renderTable } from './tabular.js';
import { markdownSafe } from './text-safety.js';
import type { TimelineEntry, TimelineReport } from './timeline.js';

/** Options of the Markdown rendering. */
export interface MarkdownOptions {
  /** At most this many timeline rows (and appendix rows); the rest are counted in one line. */
  readonly maxRows?: number;
}

const md = (value: string | null | undefined) => (value ? markdownSafe(value) : '');
const clip = (value: string | null, max: number) => (value && value.length > max ? `${value.slice(0, max - 1)}…` : value);

function lineageLines(nodes: readonly LineageNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [
    `${'  '.repeat(depth)}- **${md(n.kind)}** ${md(n.label)}${n.principalArn && n.principalArn !== n.label ? ` as ${md(n.principalArn)}` : ''}: ${n.eventCount} event(s)${n.errorCount ? `, ${n.errorCount} failed` : ''}${n.origin ? `; from ${md(n.origin.eventName)} at ${md(n.origin.eventTime)} (${md(n.origin.eventId)})` : ''}; ${md(n.usability.status)}: ${md(n.usability.reason)}`,
    ...lineageLines(n.children, depth + 1),
  ]);
}

function timelineRow(e: TimelineEntry): string {
  const what =
    e.kind === 'finding'
      ? `**${md(e.severity)}** ${md(e.detection)}${e.outcome === 'attempt' ? ' (attempt)' : ''}: ${md(clip(e.summary, 300))}${e.techniques.length ? ` (${e.techniques.map(md).join(', ')})` : ''}`
      : `${md(clip(e.summary, 300))}${e.citedBy.length ? ` ← ${e.citedBy.map(md).join(', ')}` : ''}`;
  const who = [e.accessKeyId, e.actor].filter(Boolean).map((v) => md(clip(v, 120))).join('<br>');
  const ids = e.eventIds.slice(0, 3).map(md).join('<br>') + (e.eventIds.length > 3 ? `<br>+${e.eventIds.length - 3}` : '');
  return `| ${md(e.time)} | ${e.kind === 'finding' ? 'finding' : 'event'} | ${what} | ${who} | ${md(e.sourceIp)} | ${md(clip(e.userAgent, 80))} | ${md(e.region)} | ${ids} |`;
}

/** The timeline as Markdown: header, summary, key facts, coverage, timeline, lineage, checklist, evidence. */
export function renderTimelineMarkdown(report: TimelineReport, options: MarkdownOptions = {}): string {
  const max = options.maxRows ?? 500;
  const out: string[] = [];
  const s = report.scope;
  out.push(
    `# ${md(report.title)}`,
    '',
    `Generated ${md(report.generatedAt)} by trailhound ${md(report.toolVersion)}. Scope: ${s.mode === 'pivot' ? `pivot ${md([...s.keys, ...s.ips, ...s.principals, ...s.sessions].join(', '))} with its credential lineage` : 'the whole store'}; window ${md(s.since ?? 'start')} .. ${md(s.until ?? 'end')}; findings at or above ${md(s.minSeverity)}. Coverage: ${report.coverage.events} event(s) from ${md(report.coverage.from ?? '-')} to ${md(report.coverage.to ?? '-')}, ${report.coverage.gaps.length} known gap(s).`,
    '',
    '## Summary',
    '',
    ...report.summary.map((line, i) => `${i + 1}. ${md(line)}`),
    '',
    '## Key facts',
    '',
    '| Fact | Value |',
    '|---|---|',
    ...report.facts.map((f) => `| ${md(f.name)} | ${md(f.value)} |`),
    '',
    '## Coverage',
    '',
    `Sources: ${report.coverage.sources.map((c) => `${md(c.name)} (${c.count})`).join(', ') || 'none'}. Accounts: ${report.coverage.accounts.map(md).join(', ') || '-'}. Regions: ${report.coverage.regions.map(md).join(', ') || '-'}.`,
    '',
  );
  if (report.coverage.gaps.length === 0) out.push('No gap recorded: every input was read and no logging stop was seen.', '');
  for (const g of report.coverage.gaps) out.push(`- **${md(g.kind)}**${g.account ? ` ${md(g.account)}` : ''}${g.region ? ` ${md(g.region)}` : ''}${g.from ? ` ${md(g.from)} .. ${md(g.to ?? '?')}` : ''}: ${md(g.detail)}`);
  if (report.coverage.gaps.length) out.push('');

  out.push('## Timeline', '', `${report.findingCount} finding(s) and ${report.eventCount} event(s), by time (UTC). Each event row is followed by the findings that cite it.`, '');
  out.push('| Time (UTC) | Kind | What | Key / principal | Source IP | User agent | Region | Event ids |', '|---|---|---|---|---|---|---|---|');
  out.push(...report.entries.slice(0, max).map(timelineRow));
  if (report.entries.length > max) out.push('', `${report.entries.length - max} more row(s) not shown (${report.entries.length} in all); \`--max-rows\` raises the limit, \`--format csv\` or \`jsonl\` gives every row.`);
  if (report.eventsTruncated) out.push('', 'The lineage had more events than the event limit: the timeline lists the earliest ones.');
  out.push('');

  if (report.lineage.length) out.push('## Credential lineage', '', ...lineageLines(report.lineage), '');

  out.push('## Remediation checklist', '', renderPlanMarkdown(report.plan, 3).trimEnd(), '');

  const evidence = report.entries.filter((e) => e.kind === 'event');
  out.push('## Evidence appendix', '', 'Each event with the input file it was read from, its place in the file and the file\'s SHA-256 as read.', '');
  out.push('| Event id | Time | Event | File | Record | SHA-256 |', '|---|---|---|---|---|---|');
  for (const e of evidence.slice(0, max)) {
    const p = e.provenance[0];
    out.push(`| ${md(e.eventIds[0])} | ${md(e.time)} | ${md(e.eventName)} | ${md(p?.uri ?? 'not in the store')} | ${p?.recordIndex ?? ''} | ${md(p?.sha256 ?? '')} |`);
  }
  if (evidence.length > max) out.push('', `${evidence.length - max} more event(s) not shown.`);
  return `${out.join('\n').trimEnd()}\n`;
}

/** One timeline entry as a flat record with stable field names (JSON Lines, CSV). */
export function entryRecord(e: TimelineEntry): Record<string, unknown> {
  return {
    time: e.time,
    kind: e.kind,
    severity: e.severity,
    detection: e.detection,
    outcome: e.outcome,
    title: e.title,
    summary: e.summary,
    eventName: e.eventName,
    eventSource: e.eventSource,
    actor: e.actor,
    accessKeyId: e.accessKeyId,
    sourceIp: e.sourceIp,
    userAgent: e.userAgent,
    region: e.region,
    account: e.account,
    errorCode: e.errorCode,
    resource: e.resource,
    tactics: e.tactics,
    techniques: e.techniques,
    eventIds: e.eventIds,
    citedBy: e.citedBy,
    provenance: e.provenance,
  };
}

const CSV_COLUMNS = [
  'time',
  'kind',
  'severity',
  'detection',
  'outcome',
  'title',
  'summary',
  'eventName',
  'eventSource',
  'actor',
  'accessKeyId',
  'sourceIp',
  'userAgent',
  'region',
  'account',
  'errorCode',
  'resource',
  'techniques',
  'tactics',
  'eventIds',
  'citedBy',
  'inputUri',
  'inputSha256',
  'recordIndex',
];

/** The timeline as CSV: one row per entry, RFC 4180, cells that could run as formulas neutralised. */
export function renderTimelineCsv(report: TimelineReport): string {
  const rows = report.entries.map((e) => ({
    ...entryRecord(e),
    techniques: e.techniques.join(' '),
    tactics: e.tactics.join(' '),
    eventIds: e.eventIds.join(' '),
    citedBy: e.citedBy.join(' '),
    inputUri: [...new Set(e.provenance.map((p) => p.uri))].join(' '),
    inputSha256: [...new Set(e.provenance.map((p) => p.sha256 ?? ''))].join(' '),
    recordIndex: e.provenance.map((p) => p.recordIndex ?? '').join(' '),
  }));
  return renderTable({ columns: CSV_COLUMNS, rows }, 'csv');
}

/** The timeline as JSON Lines: one object per entry, full detail. */
export function renderTimelineJsonl(report: TimelineReport): string {
  return report.entries.map((e) => `${JSON.stringify(entryRecord(e))}\n`).join('');
}

/** The timeline as Timesketch JSONL: `message`, `datetime`, `timestamp_desc` on every line, the rest as flat attributes. */
export function renderTimelineTimesketch(report: TimelineReport): string {
  return report.entries
    .map((e) => {
      const ms = Date.parse(e.time);
      const line: Record<string, unknown> = {
        message: e.kind === 'finding' ? `[${e.severity}] ${e.detection}: ${e.summary}` : e.summary,
        datetime: Number.isNaN(ms) ? e.time : new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
        timestamp: Number.isNaN(ms) ? null : ms * 1000,
        timestamp_desc: e.kind === 'finding' ? 'Finding (time of its first event)' : 'CloudTrail event time',
        data_type: e.kind === 'finding' ? 'trailhound:finding' : 'aws:cloudtrail:event',
        kind: e.kind,
        severity: e.severity,
        detection: e.detection,
        outcome: e.outcome,
        title: e.title,
        event_name: e.eventName,
        event_source: e.eventSource,
        actor: e.actor,
        access_key_id: e.accessKeyId,
        source_ip: e.sourceIp,
        user_agent: e.userAgent,
        aws_region: e.region,
        account: e.account,
        error_code: e.errorCode,
        resource: e.resource,
        tactics: e.tactics.join(' '),
        techniques: e.techniques.join(' '),
        event_ids: e.eventIds.join(' '),
        cited_by: e.citedBy.join(' '),
        input_uri: [...new Set(e.provenance.map((p) => p.uri))].join(' '),
        input_sha256: [...new Set(e.provenance.map((p) => p.sha256 ?? ''))].join(' '),
        tag: e.kind === 'finding' ? ['trailhound', e.severity ?? 'finding'] : ['trailhound'],
      };
      for (const key of Object.keys(line)) if (line[key] === null || line[key] === '') delete line[key];
      return `${JSON.stringify(line)}\n`;
    })
    .join('');
}
