/**
 * The timeline as Markdown (for an incident ticket), CSV, JSON Lines and Timesketch JSONL.
 * Pure: report in, text out. Every string from the logs is made inert for its format.
 */
import type { LineageNode } from '../analyze/types.js';
import { renderPlanMarkdown } from './plan-renderers.js';
import { nowMarkdown } from '../snapshot/render.js';
import { renderTable } from './tabular.js';
import { counted } from '../core/words.js';
import type { Alert } from '../detect/alerts.js';
import { SEVERITIES } from '../detect/catalog.js';
import { clipMiddle, markdownHeading, markdownSafe, markdownText } from './text-safety.js';
import type { TimelineEntry, TimelineReport } from './timeline.js';

/** Options of the Markdown rendering. */
export interface MarkdownOptions {
  /** At most this many timeline rows (`--limit`); the rest are counted in one line. */
  readonly maxRows?: number;
  /** Only the alerts and findings: no event rows, no evidence appendix (`--findings-only`). */
  readonly findingsOnly?: boolean;
  /** The size the document must fit, in bytes (default 65,000: GitHub and Jira cap a description near 65 KB). */
  readonly maxBytes?: number;
}

/** What a ticket description can hold: GitHub caps an issue body at 65,536 characters, Jira a description near it. */
export const TICKET_BYTES = 65_000;
/** Alerts listed at most; the rest are counted. */
const MAX_ALERT_ROWS = 200;

const md = (value: string | null | undefined) => (value ? markdownSafe(value) : '');
const text = (value: string | null | undefined) => (value ? markdownText(value) : '');
const clip = (value: string | null, max: number) => (value && value.length > max ? `${value.slice(0, max - 1)}…` : value);
const bytes = (lines: readonly string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8') + 1, 0);

function lineageLines(nodes: readonly LineageNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [
    `${'  '.repeat(depth)}- **${text(n.kind)}** ${text(n.label)}${n.principalArn && n.principalArn !== n.label ? ` as ${text(n.principalArn)}` : ''}: ${counted(n.eventCount, 'event')}${n.errorCount ? `, ${n.errorCount} failed` : ''}${n.origin ? `; from ${text(n.origin.eventName)} at ${text(n.origin.eventTime)} (${text(n.origin.eventId)})` : ''}; ${text(n.usability.status)}: ${text(n.usability.reason)}`,
    ...lineageLines(n.children, depth + 1),
  ]);
}

/** A few event ids, then how many more. */
function idList(ids: readonly string[], shown = 3): string {
  return ids.slice(0, shown).map(md).join('<br>') + (ids.length > shown ? `<br>+${ids.length - shown}` : '');
}

function timelineRow(e: TimelineEntry): string {
  const what =
    e.kind === 'finding'
      ? `**${md(e.severity)}** ${md(e.detection)}${e.outcome === 'attempt' ? ' (attempt)' : ''}: ${md(clip(e.summary, 300))}${e.techniques.length ? ` (${e.techniques.map(md).join(', ')})` : ''}`
      : `${md(clip(e.summary, 300))}${e.citedBy.length ? ` ← ${e.citedBy.map(md).join(', ')}` : ''}`;
  const who = [e.accessKeyId, e.actor].filter(Boolean).map((v) => md(clipMiddle(v!, 120))).join('<br>');
  return `| ${md(e.time)} | ${e.kind === 'finding' ? 'finding' : 'event'} | ${what} | ${who} | ${md(e.sourceIp)} | ${md(e.userAgent ? clipMiddle(e.userAgent, 80) : null)} | ${md(e.region)} | ${idList(e.eventIds)} |`;
}

function alertRow(a: Alert): string {
  const when = a.firstTime === a.lastTime ? md(a.firstTime) : `${md(a.firstTime)} .. ${md(a.lastTime)}`;
  const who = [a.accessKeyId, a.actor].filter(Boolean).map((v) => md(clipMiddle(v!, 120))).join('<br>');
  return `| **${md(a.severity)}** | ${md(a.detection)}${a.outcome === 'attempt' ? ' (attempt)' : ''} | ${md(clip(a.summary ?? a.title, 300))} | ${a.count} | ${when} | ${who} | ${md(a.sourceIp)} | ${idList(a.eventIds)} |`;
}

/** The alerts, worst first, as a table. */
function alertSection(report: TimelineReport): string[] {
  const alerts = report.alerts;
  const out = ['## Alerts', ''];
  if (alerts.length === 0) return [...out, `No finding at or above ${text(report.scope.minSeverity)} in this scope.`, ''];
  const bySeverity = [...SEVERITIES].reverse().map((s) => [s, alerts.filter((a) => a.severity === s).length] as const).filter(([, n]) => n > 0);
  out.push(`${counted(alerts.length, 'alert')} from ${counted(report.findingCount, 'finding')}: ${bySeverity.map(([s, n]) => `${n} ${s}`).join(', ')}. Each groups the matches of one detection by one key or principal, from one address, on one resource, within an hour.`, '');
  out.push('| Severity | Detection | What | Matches | Time (UTC) | Key / principal | Source IP | Event ids |', '|---|---|---|---:|---|---|---|---|');
  out.push(...alerts.slice(0, MAX_ALERT_ROWS).map(alertRow));
  if (alerts.length > MAX_ALERT_ROWS) out.push('', `${counted(alerts.length - MAX_ALERT_ROWS, 'more alert')} not listed (the least severe); \`trailhound detect --format json\` lists them all.`);
  out.push('');
  return out;
}

/**
 * The timeline as Markdown for an incident ticket: the summary and the alerts by severity
 * first, then the events behind the alerts, the lineage and the checklist, within a size a
 * ticket accepts. Rows that do not fit are counted, with the command that gives them all.
 */
export function renderTimelineMarkdown(report: TimelineReport, options: MarkdownOptions = {}): string {
  const limit = options.maxRows ?? 500;
  const budget = options.maxBytes ?? TICKET_BYTES;
  const s = report.scope;
  const head: string[] = [
    `# ${markdownHeading(report.title)}`,
    '',
    `Generated ${text(report.generatedAt)} by trailhound ${text(report.toolVersion)}. Scope: ${s.mode === 'pivot' ? `pivot ${text([...s.keys, ...s.ips, ...s.principals, ...s.sessions].join(', '))} with its credential lineage` : 'the whole store'}; window ${text(s.since ?? 'start')} .. ${text(s.until ?? 'end')}; findings at or above ${text(s.minSeverity)}. Coverage: ${counted(report.coverage.events, 'event')} from ${text(report.coverage.from ?? '-')} to ${text(report.coverage.to ?? '-')}, ${counted(report.coverage.gaps.length, 'known gap')}.`,
    '',
    '## Summary',
    '',
    ...report.summary.map((line, i) => `${i + 1}. ${text(line)}`),
    '',
    ...alertSection(report),
    '## Key facts',
    '',
    '| Fact | Value |',
    '|---|---|',
    ...report.facts.map((f) => `| ${md(f.name)} | ${md(f.value)} |`),
    '',
    '## Coverage',
    '',
    `Sources: ${report.coverage.sources.map((c) => `${text(c.name)} (${c.count})`).join(', ') || 'none'}. Accounts: ${report.coverage.accounts.map(text).join(', ') || '-'}. Regions: ${report.coverage.regions.map(text).join(', ') || '-'}.`,
    '',
  ];
  if (report.coverage.gaps.length === 0) head.push('No gap recorded: every input was read and no logging stop was seen.', '');
  for (const g of report.coverage.gaps) head.push(`- **${text(g.kind)}**${g.account ? ` ${text(g.account)}` : ''}${g.region ? ` ${text(g.region)}` : ''}${g.from ? ` ${text(g.from)} .. ${text(g.to ?? '?')}` : ''}: ${text(g.detail)}`);
  if (report.coverage.gaps.length) head.push('');

  const tail: string[] = [];
  if (report.lineage.length) tail.push('## Credential lineage', '', ...lineageLines(report.lineage), '');
  if (report.now) tail.push(...nowMarkdown(report.now, 2));
  tail.push('## Remediation checklist', '', renderPlanMarkdown(report.plan, 3).trimEnd(), '');

  // The event table keeps the findings and the events behind them; the lineage's other events are counted.
  const wanted = report.entries.filter((e) => e.kind === 'finding' || (!options.findingsOnly && e.citedBy.length > 0));
  const otherEvents = report.entries.filter((e) => e.kind === 'event').length - wanted.filter((e) => e.kind === 'event').length;
  const rowsHead = ['## Timeline', '', `${counted(report.findingCount, 'finding')} and ${counted(report.eventCount, 'event')}, by time (UTC). Each event row is followed by the findings that cite it.`, '', '| Time (UTC) | Kind | What | Key / principal | Source IP | User agent | Region | Event ids |', '|---|---|---|---|---|---|---|---|'];
  const appendixHead = ['## Evidence appendix', '', "Each event with the input file it was read from, its place in the file and the file's SHA-256 as read.", '', '| Event id | Time | Event | File | Record | SHA-256 |', '|---|---|---|---|---|---|'];
  // Room for the notes on what was left out.
  let room = budget - bytes(head) - bytes(tail) - bytes(rowsHead) - bytes(appendixHead) - 1_500;
  const rows: string[] = [];
  const shownEvents: TimelineEntry[] = [];
  for (const e of wanted) {
    if (rows.length >= limit) break;
    const row = timelineRow(e);
    const size = Buffer.byteLength(row, 'utf8') + 1;
    if (size > room) break;
    room -= size;
    rows.push(row);
    if (e.kind === 'event') shownEvents.push(e);
  }
  const appendix: string[] = [];
  for (const e of options.findingsOnly ? [] : shownEvents) {
    const p = e.provenance[0];
    const row = `| ${md(e.eventIds[0])} | ${md(e.time)} | ${md(e.eventName)} | ${md(p?.uri ?? 'not in the store')} | ${p?.recordIndex ?? ''} | ${md(p?.sha256 ?? '')} |`;
    const size = Buffer.byteLength(row, 'utf8') + 1;
    if (size > room) break;
    room -= size;
    appendix.push(row);
  }

  const left: string[] = [];
  if (rows.length < wanted.length) {
    const why = rows.length >= limit ? `the limit of ${rows.length} (\`--limit\`)` : `what fits a ticket (${Math.round(budget / 1000)} KB)`;
    left.push(`${counted(wanted.length - rows.length, 'more row')} of the alerts' findings and events not shown (${wanted.length} in all): they exceed ${why}.`);
  }
  if (otherEvents > 0) left.push(`${counted(otherEvents, 'lineage event')} not behind any alert ${otherEvents === 1 ? 'is' : 'are'} left out.`);
  if (options.findingsOnly) left.push('Findings only: the events behind them are left out.');
  if (left.length) left.push('`--format csv` or `jsonl` gives every row, `--format html` a page to browse them.');
  const out = [...head, ...rowsHead, ...rows, ''];
  if (left.length) out.push(left.join(' '), '');
  if (report.eventsTruncated) out.push('The lineage had more events than the event limit: the timeline lists the earliest ones.', '');
  out.push(...tail);
  if (!options.findingsOnly && shownEvents.length) {
    out.push(...appendixHead, ...appendix);
    if (appendix.length < shownEvents.length) out.push('', `${counted(shownEvents.length - appendix.length, 'more event')} not shown here, for the size of a ticket; \`--format csv\` lists each with its file and SHA-256.`);
  }
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
    network: e.network,
    userAgent: e.userAgent,
    agentClass: e.agentClass,
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
  'network',
  'userAgent',
  'agentClass',
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

/** The timeline as one JSON document: the summary, alerts, entries (each as in JSON Lines), lineage, coverage and plan. */
export function renderTimelineJson(report: TimelineReport): string {
  return `${JSON.stringify({ ...report, entries: report.entries.map(entryRecord) }, null, 2)}\n`;
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
        network: e.network,
        agent_class: e.agentClass,
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
