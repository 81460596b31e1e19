import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromStore, timelineFromStore } from '../../src/report/from-store.js';
import { renderTimelineHtml } from '../../src/report/html-renderer.js';
import { renderPlanJson, renderPlanMarkdown, renderPlanShell } from '../../src/report/plan-renderers.js';
import type { TimelineReport } from '../../src/report/timeline.js';
import { renderTimelineCsv, renderTimelineJsonl, renderTimelineMarkdown, renderTimelineTimesketch } from '../../src/report/timeline-renderers.js';
import type { RemediationPlan } from '../../src/remediate/types.js';
import type { Store } from '../../src/store/store.js';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { demoStore, PINNED, portable } from './demo-store.js';

// Regenerate with: UPDATE_GOLDEN=1 npx vitest run test/report/golden.test.ts
const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env['UPDATE_GOLDEN'] === '1';

function golden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  const text = portable(actual);
  if (update || !existsSync(path)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, text);
  }
  expect(text, `${name} differs from its golden file; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(readFileSync(path, 'utf8'));
}

/**
 * The report with the checkout's path replaced before rendering: the ticket's Markdown is cut
 * to a byte budget, and a longer checkout path would cut it at another row.
 */
function portableReport(report: TimelineReport): TimelineReport {
  return JSON.parse(portable(JSON.stringify(report))) as TimelineReport;
}

describe('golden files on the demo scenario', () => {
  let store: Store;
  let report: TimelineReport;
  let plan: RemediationPlan;
  beforeAll(async () => {
    store = await demoStore();
    report = await timelineFromStore(store, { generatedAt: PINNED });
    plan = await planFromStore(store, { containedAt: PINNED });
  });
  afterAll(() => store.close());

  it('timeline md', () => golden('demo.timeline.md', renderTimelineMarkdown(portableReport(report))));
  it('timeline csv', () => golden('demo.timeline.csv', renderTimelineCsv(report)));
  it('timeline jsonl', () => golden('demo.timeline.jsonl', renderTimelineJsonl(report)));
  it('timeline timesketch', () => golden('demo.timeline.timesketch.jsonl', renderTimelineTimesketch(report)));
  it('timeline html', () => golden('demo.timeline.html', renderTimelineHtml(report)));
  it('plan md', () => golden('demo.plan.md', renderPlanMarkdown(plan)));
  it('plan json', () => golden('demo.plan.json', renderPlanJson(plan)));
  it('plan sh', () => golden('demo.plan.sh', renderPlanShell(plan)));

  it('renders the same bytes from the same store and options', async () => {
    const again = await timelineFromStore(store, { generatedAt: PINNED });
    expect(renderTimelineHtml(again)).toBe(renderTimelineHtml(report));
    expect(renderTimelineMarkdown(again)).toBe(renderTimelineMarkdown(report));
    expect(renderPlanShell(await planFromStore(store, { containedAt: PINNED }))).toBe(renderPlanShell(plan));
  });

  it('puts every finding on the timeline with the events behind it and their provenance', () => {
    const findings = report.entries.filter((e) => e.kind === 'finding');
    const events = report.entries.filter((e) => e.kind === 'event');
    expect(findings).toHaveLength(report.findingCount);
    expect(findings.length).toBeGreaterThanOrEqual(12);
    const eventIds = new Set(events.flatMap((e) => e.eventIds));
    // A finding over the account snapshot cites the snapshot, which the timeline's "now" section names.
    for (const f of findings) for (const id of f.eventIds) expect(eventIds.has(id) || id === `snapshot:${report.now?.snapshot.id}`, `${f.detection} cites ${id}`).toBe(true);
    expect(report.now?.unexplained.map((u) => u.id)).toContain('i-0e5b4d2c1a9f87361');
    for (const e of events) {
      expect(e.provenance).toHaveLength(1);
      expect(e.provenance[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.provenance[0]!.uri).toContain('fixtures');
    }
    const times = report.entries.map((e) => e.time);
    expect([...times].sort()).toEqual(times);
    expect(report.summary).toHaveLength(5);
    expect(report.entries.find((e) => e.detection === 'iam_user_created')?.summary).toContain(DEMO_FACTS.createdUser);
  });

  it('scoped to the leaked key: its lineage events, the findings about them, the lineage tree', async () => {
    const scoped = await timelineFromStore(store, { generatedAt: PINNED, keys: [DEMO_FACTS.leakedKeyId], minSeverity: 'medium' });
    golden('demo.timeline.key.md', renderTimelineMarkdown(portableReport(scoped), { maxRows: 60 }));
    const events = scoped.entries.filter((e) => e.kind === 'event');
    const lineageKeys = [DEMO_FACTS.leakedKeyId, DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId, 'ASIAQ3EGRV7XCONSOLE6', null];
    for (const e of events) expect(lineageKeys.includes(e.accessKeyId) || e.citedBy.length > 0, `${e.eventName} ${e.accessKeyId}`).toBe(true);
    expect(events.filter((e) => e.accessKeyId === DEMO_FACTS.leakedKeyId)).toHaveLength(DEMO_FACTS.counts.byLeakedKey);
    expect(events.filter((e) => e.accessKeyId === DEMO_FACTS.createdKeyId)).toHaveLength(6);
    // The findings over the account snapshot concern the account, not the key's lineage.
    expect(scoped.findingCount).toBe(report.entries.filter((e) => e.kind === 'finding' && !e.detection?.startsWith('snapshot_')).length);
    expect(scoped.lineage.map((n) => n.label)).toEqual([DEMO_FACTS.leakedKeyId]);
    expect(scoped.scope.mode).toBe('pivot');
    const byIp = await timelineFromStore(store, { generatedAt: PINNED, ips: ['198.51.100.10'] });
    // Alice restarted the trail from the office: the gap finding cites her StartLogging, nothing else concerns that address.
    expect(byIp.entries.filter((e) => e.kind === 'finding').map((e) => e.detection)).toEqual(['cloudtrail_logging_gap']);
  });

  it('cuts the Markdown at --limit and says how many rows are left out and how to get them', () => {
    const md = renderTimelineMarkdown(report, { maxRows: 5 });
    const rows = md.split('\n## Timeline')[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| 2026'));
    expect(rows).toHaveLength(5);
    expect(md).toContain(`${report.entries.length - 5} more rows of the alerts' findings and events not shown (${report.entries.length} in all): they exceed the limit of 5 (\`--limit\`).`);
    expect(md).toContain('`--format csv` or `jsonl` gives every row');
  });

  it('leads a ticket with the summary and the alerts by severity, and keeps it within 65 KB', () => {
    const md = renderTimelineMarkdown(report);
    const sections = md.split('\n').filter((l) => l.startsWith('## '));
    expect(sections.slice(0, 3)).toEqual(['## Summary', '## Alerts', '## Key facts']);
    const alerts = md.split('## Alerts')[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| **'));
    expect(alerts).toHaveLength(report.alerts.length);
    const order = alerts.map((l) => /\*\*(\w+)\*\*/.exec(l)![1]!);
    expect(order[0]).toBe('critical');
    expect([...order].sort((a, b) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(b) - ['info', 'low', 'medium', 'high', 'critical'].indexOf(a))).toEqual(order);
    // A small budget cuts events, never the alerts, and says so.
    const small = renderTimelineMarkdown(report, { maxBytes: 40_000 });
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(40_000);
    expect(small.split('## Alerts')[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| **'))).toHaveLength(report.alerts.length);
    expect(small, small.split('## Timeline')[1]?.slice(-3000)).toMatch(/more rows? of the alerts' findings and events not shown \(\d+ in all\): they exceed what fits a ticket \(40 KB\)/);
  });

  it('keeps the event table of a pivot to the events behind its alerts, and has a findings-only mode', async () => {
    const scoped = await timelineFromStore(store, { generatedAt: PINNED, keys: [DEMO_FACTS.leakedKeyId] });
    const md = renderTimelineMarkdown(scoped);
    const uncited = scoped.entries.filter((e) => e.kind === 'event' && e.citedBy.length === 0).length;
    expect(uncited).toBeGreaterThan(0);
    expect(md).toContain(`${uncited} lineage events not behind any alert are left out.`);
    const timeline = md.split('\n## Timeline')[1]!.split('\n## ')[0]!;
    expect(timeline.split('\n').filter((l) => l.startsWith('| 2026') && l.includes('| event |')).every((l) => l.includes(' ← '))).toBe(true);
    const only = renderTimelineMarkdown(scoped, { findingsOnly: true });
    expect(only.split('\n## Timeline')[1]!.split('\n## ')[0]!).not.toContain('| event |');
    expect(only).not.toContain('## Evidence appendix');
    expect(only).toContain('Findings only: the events behind them are left out.');
  });

  it('escapes only what Markdown would interpret: dates, versions and ATT&CK read as they are', () => {
    const md = renderTimelineMarkdown(report);
    expect(md).toContain('Generated 2026-03-06T12:00:00Z by trailhound 0.1.0.');
    expect(md).toContain('| ATT&CK techniques |');
    expect(md).not.toMatch(/\\[-.()]/);
  });
});
