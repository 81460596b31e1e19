import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Coverage } from '../../src/analyze/types.js';
import type { EvidenceEvent, Finding } from '../../src/report/evidence.js';
import { escapeHtml, renderTimelineHtml, scriptJson } from '../../src/report/html-renderer.js';
import { renderPlanMarkdown } from '../../src/report/plan-renderers.js';
import { buildTimeline, type TimelineReport } from '../../src/report/timeline.js';
import { renderTimelineCsv, renderTimelineJsonl, renderTimelineMarkdown, renderTimelineTimesketch } from '../../src/report/timeline-renderers.js';
import { buildPlan } from '../../src/remediate/plan.js';
import { CREATED_USER, evidenceEvent, findingOf } from '../helpers/evidence.js';

const HOSTILE = {
  script: '<script>alert(1)</script>',
  img: '<img src=x onerror=alert(document.domain)>',
  breakout: '</script><script>alert(2)</script>',
  formula: "=cmd|' /C calc'!A0",
  plus: '+HYPERLINK("http://evil.example","x")',
  minus: '-2+3',
  at: '@SUM(A1:A2)',
  tab: '\t=1+1',
  cr: '\r=1+1',
  pipe: 'a | b | c',
  newline: 'line one\n| fake | row |',
  link: '[click](javascript:alert(1)) http://evil.example @here #1',
  separators: 'x\u2028y\u2029z',
  ansi: '\u001b[31mred\u001b[0m',
};

/** A strict RFC 4180 reader (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === '"') throw new Error(`stray quote at ${i}`);
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n') record.push(field), records.push(record), (record = []), (field = '');
    else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

const coverage: Coverage = { from: '2026-03-04T00:00:00Z', to: '2026-03-05T00:00:00Z', accounts: ['111122223333'], regions: ['us-east-1'], events: 14, sources: [{ name: 'file', count: 14 }], gaps: [] };

function hostileReport(): TimelineReport {
  const events: EvidenceEvent[] = Object.entries(HOSTILE).map(([name, value], i) =>
    evidenceEvent('CreateUser', {
      eventId: `evt-${String(i).padStart(2, '0')}`,
      eventTime: `2026-03-04T01:${String(i).padStart(2, '0')}:00Z`,
      userAgent: value,
      errorMessage: value,
      requestParameters: { userName: `${name}${value}` },
      provenance: { uri: `s3://bucket/${name}.json.gz`, sha256: 'ab'.repeat(32), recordIndex: i, runId: 'r1' },
    }),
  );
  const findings: Finding[] = events.map((e) =>
    findingOf(e, { ...CREATED_USER, resource: e.userAgent, summary: `IAM user ${String((e.requestParameters as { userName: string }).userName)} created` }),
  );
  const plan = buildPlan({ findings, events, containedAt: '2026-03-06T12:00:00Z' });
  return buildTimeline({
    findings,
    events,
    coverage,
    investigations: [],
    plan,
    scope: { mode: 'store', keys: [], ips: [], principals: [], sessions: [], since: null, until: null, minSeverity: 'info' },
    generatedAt: '2026-03-06T12:00:00Z',
    toolVersion: '0.0.0-test',
  });
}

describe('attacker-controlled strings in every format', () => {
  const report = hostileReport();

  it('CSV: quoted, one row per entry, no cell a spreadsheet would run as a formula', () => {
    const csv = renderTimelineCsv(report);
    const rows = parseCsv(csv);
    for (const row of rows) expect(Object.keys(row)).toHaveLength(26);
    expect(rows).toHaveLength(report.entries.length);
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    const agents = rows.filter((r) => r['kind'] === 'event').map((r) => r['userAgent']);
    expect(agents).toContain(`'${HOSTILE.formula}`);
    expect(agents).toContain(`'${HOSTILE.plus}`);
    expect(agents).toContain(`'${HOSTILE.at}`);
    expect(agents).toContain(`'${HOSTILE.tab}`);
    // The CR at the start is guarded, and so is the line the CR begins.
    expect(agents).toContain(`'\r'=1+1`);
    expect(agents).toContain(HOSTILE.newline);
  });

  it('Markdown: no raw markup, links or mentions, and a fixed number of cells in every table row', () => {
    const md = renderTimelineMarkdown(report);
    expect(md).not.toContain('<script');
    expect(md).not.toContain('<img');
    expect(md).not.toMatch(/(?<!\\)\[click\]/);
    expect(md).not.toMatch(/javascript:/);
    expect(md).not.toMatch(/\u001b/);
    expect(md).not.toMatch(/[\u2028\u2029]/);
    const table = md.split('## Timeline')[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| 2026'));
    expect(table).toHaveLength(report.entries.length);
    for (const row of table) expect(row.split(/(?<!\\)\|/).length).toBe(10);
    expect(md).toContain('&lt;script');
  });

  it('Markdown plan: commands stay in code spans, reasons are escaped', () => {
    const md = renderPlanMarkdown(report.plan);
    expect(md).not.toContain('<img');
    for (const line of md.split('\n').filter((l) => l.includes('`'))) expect(line.trim()).toMatch(/^`[^`]*`$/);
  });

  it('JSON Lines and Timesketch: one valid object per line, the strings intact', () => {
    for (const text of [renderTimelineJsonl(report), renderTimelineTimesketch(report)]) {
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(report.entries.length);
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(JSON.stringify(parsed)).toContain(JSON.stringify(HOSTILE.breakout).slice(1, -1));
    }
    for (const line of renderTimelineTimesketch(report).trimEnd().split('\n')) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(typeof o['message']).toBe('string');
      expect(o['datetime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(typeof o['timestamp_desc']).toBe('string');
    }
  });

  it('HTML: two script blocks only, the data block unbreakable, the CSP hashes matching the inline blocks', () => {
    const html = renderTimelineHtml(report);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
    const data = /<script type="application\/json" id="timeline-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(data).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(data).entries).toHaveLength(report.entries.length);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    expect(csp).toMatch(/^default-src 'none'; /);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const sha = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    expect(csp).toContain(`style-src ${sha(style)}`);
    expect(csp).toContain(`script-src ${sha(script)}`);
    expect(html).not.toMatch(/<[^>]*\s(style|on\w+)=/);
  });

  it('escapes for HTML text and attributes, and for script data', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;');
    expect(escapeHtml('a\u0007b')).toBe('a\\x07b');
    expect(scriptJson({ s: '</script>\u2028&' })).toBe('{"s":"\\u003c/script\\u003e\\u2028\\u0026"}');
    expect(JSON.parse(scriptJson({ s: '</script>\u2028&' }))).toEqual({ s: '</script>\u2028&' });
  });
});
