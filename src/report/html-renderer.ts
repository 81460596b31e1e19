/**
 * The timeline as one self-contained HTML file: summary, activity charts, a filterable and
 * sortable timeline table, the credential lineage, coverage and the remediation plan. No
 * network fetch: the stylesheet, the script and the charts (SVG drawn here) are inline, and
 * a Content-Security-Policy allows exactly those two inline blocks by hash and nothing else.
 * Static parts are escaped here; the table rows come from a JSON data block that the script
 * renders with textContent only.
 */
import { counted } from '../core/words.js';
import { createHash } from 'node:crypto';
import type { LineageNode } from '../analyze/types.js';
import { SEVERITIES } from '../detect/catalog.js';
import type { RemediationPlan } from '../remediate/types.js';
import { REPORT_CSS, REPORT_JS } from './html-assets.js';
import type { NowView } from '../snapshot/join.js';
import { NOW_NOT_ASKED, nowHeading, nowMore } from '../snapshot/render.js';
import { doneLine, isDone, noCommand, stateLine, stateSummary } from './plan-renderers.js';
import { entryRecord } from './timeline-renderers.js';
import type { TimelineEntry, TimelineReport } from './timeline.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string | null | undefined): string {
  return (text ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script type="application/json">` block: no `<`, `>`, `&`, U+2028 or U+2029 left raw. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The Content-Security-Policy of the report: nothing but its own inline style and script. */
export function contentSecurityPolicy(css: string, js: string): string {
  return `default-src 'none'; style-src ${hash(css)}; script-src ${hash(js)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

const COLORS: Record<string, string> = { critical: '#8e1b1b', high: '#d0451b', medium: '#c98a00', low: '#3a7bbf', info: '#7a8699', event: '#9aa5b5' };

/** Bar widths to choose from, in minutes: from one minute to a week. */
const BUCKET_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

/**
 * The bar width for a span: the narrowest that keeps the chart within 48 bars, so that a
 * 37-minute incident gets a bar per minute and a month one per day.
 */
export function bucketSize(spanMs: number): number {
  const minutes = BUCKET_MINUTES.find((m) => spanMs / (m * 60_000) < 48) ?? Math.ceil(spanMs / 60_000 / 47);
  return minutes * 60_000;
}

/** Stacked bars of events and findings (by severity) over time, as SVG markup. */
export function activityChart(entries: readonly TimelineEntry[]): string {
  const times = entries.map((e) => Date.parse(e.time)).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return '<p class="muted">No activity to chart.</p>';
  const size = bucketSize(Math.max(...times) - Math.min(...times));
  const start = Math.floor(Math.min(...times) / size) * size;
  const end = Math.floor(Math.max(...times) / size) * size + size;
  const count = Math.max(1, Math.ceil((end - start) / size));
  const bucketLabel = size < 3_600_000 ? `${size / 60_000}m` : `${size / 3_600_000}h`;
  const layers = ['event', ...[...SEVERITIES].reverse()];
  const buckets = Array.from({ length: count }, () => new Map<string, number>());
  for (const e of entries) {
    const t = Date.parse(e.time);
    if (Number.isNaN(t)) continue;
    const b = buckets[Math.min(count - 1, Math.floor((t - start) / size))]!;
    const layer = e.kind === 'finding' ? (e.severity ?? 'info') : 'event';
    b.set(layer, (b.get(layer) ?? 0) + 1);
  }
  const top = Math.max(1, ...buckets.map((b) => [...b.values()].reduce((s, n) => s + n, 0)));
  const width = 960;
  const height = 220;
  const left = 40;
  const bottom = 40;
  const plot = height - bottom - 10;
  const barWidth = (width - left - 10) / count;
  const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, 'Z');
  const parts: string[] = [];
  parts.push(`<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#5b6575"/>`);
  parts.push(`<text x="${left - 6}" y="${height - bottom - plot + 4}" text-anchor="end" font-size="11" fill="#5b6575">${top}</text>`);
  parts.push(`<text x="${left - 6}" y="${height - bottom + 4}" text-anchor="end" font-size="11" fill="#5b6575">0</text>`);
  buckets.forEach((b, i) => {
    let y = height - bottom;
    const x = left + i * barWidth;
    const total = [...b.values()].reduce((s, n) => s + n, 0);
    const label = `${iso(start + i * size)} +${bucketLabel}: ${[...b].map(([k, n]) => (k === 'event' ? counted(n, 'event') : `${n} ${k} ${n === 1 ? 'finding' : 'findings'}`)).join(', ') || 'nothing'}`;
    parts.push(`<g><title>${escapeHtml(label)}</title>`);
    for (const layer of layers) {
      const n = b.get(layer) ?? 0;
      if (!n) continue;
      const h = (n / top) * plot;
      y -= h;
      parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[layer]}"/>`);
    }
    if (total === 0) parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${height - bottom - 1}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="1" fill="#d8dde6"/>`);
    parts.push('</g>');
    if (i % Math.max(1, Math.ceil(count / 6)) === 0) {
      parts.push(`<text x="${x.toFixed(1)}" y="${height - bottom + 16}" font-size="11" fill="#5b6575">${escapeHtml(iso(start + i * size))}</text>`);
    }
  });
  const legend = layers
    .map((l) => `<span><svg width="10" height="10" class="swatch" aria-hidden="true"><rect width="10" height="10" fill="${COLORS[l]}"/></svg>${l === 'event' ? 'events' : l}</span>`)
    .join('');
  return `<svg class="chart" role="img" aria-label="events and findings over time" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>
<div class="legend">${legend}</div>`;
}

/** Events and findings per region, as horizontal SVG bars. */
export function regionChart(entries: readonly TimelineEntry[]): string {
  const counts = new Map<string, { events: number; findings: number }>();
  for (const e of entries) {
    const r = e.region ?? '(none)';
    const c = counts.get(r) ?? { events: 0, findings: 0 };
    if (e.kind === 'finding') c.findings++;
    else c.events++;
    counts.set(r, c);
  }
  const rows = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  if (rows.length === 0) return '';
  const top = Math.max(1, ...rows.map(([, c]) => c.events + c.findings));
  const width = 960;
  const rowHeight = 20;
  const left = 130;
  const parts = rows.map(([region, c], i) => {
    const y = i * rowHeight + 4;
    const we = (c.events / top) * (width - left - 80);
    const wf = (c.findings / top) * (width - left - 80);
    return `<g><title>${escapeHtml(`${region}: ${c.events} event(s), ${c.findings} finding(s)`)}</title><text x="${left - 6}" y="${y + 12}" text-anchor="end" font-size="11" fill="#1d2430">${escapeHtml(region)}</text><rect x="${left}" y="${y}" width="${we.toFixed(1)}" height="14" fill="${COLORS['event']}"/><rect x="${(left + we).toFixed(1)}" y="${y}" width="${wf.toFixed(1)}" height="14" fill="${COLORS['high']}"/><text x="${(left + we + wf + 6).toFixed(1)}" y="${y + 12}" font-size="11" fill="#5b6575">${c.events} / ${c.findings}</text></g>`;
  });
  const height = rows.length * rowHeight + 8;
  return `<svg class="chart" role="img" aria-label="events and findings by region" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function lineageTree(nodes: readonly LineageNode[]): string {
  if (nodes.length === 0) return '';
  return `<ul class="tree">${nodes
    .map(
      (n) =>
        `<li><span class="kind">${escapeHtml(n.kind)}</span> <span class="mono">${escapeHtml(n.label)}</span>${n.principalArn && n.principalArn !== n.label ? ` <span class="muted">as ${escapeHtml(n.principalArn)}</span>` : ''} · ${n.eventCount} event(s)${n.errorCount ? `, ${n.errorCount} failed` : ''} · <strong>${escapeHtml(n.usability.status)}</strong> <span class="muted">${escapeHtml(n.usability.reason)}</span>${n.origin ? `<div class="muted">from ${escapeHtml(n.origin.eventName)} at ${escapeHtml(n.origin.eventTime)}${n.origin.sourceIp ? ` from ${escapeHtml(n.origin.sourceIp)}` : ''} (<span class="mono">${escapeHtml(n.origin.eventId)}</span>)</div>` : ''}${lineageTree(n.children)}</li>`,
    )
    .join('')}</ul>`;
}

/** An HTML section. */
function nowHtml(now: NowView): string {
  const rows = (items: string[][]) => items.map((cells) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  const created = now.created.length
    ? `<table><thead><tr><th>created</th><th>kind</th><th>id</th><th>region</th><th>now</th><th>event</th></tr></thead><tbody>${rows(now.created.map((c) => [c.action, c.kind, c.id, c.region ?? '', `${c.now}${c.state ? ` (${c.state})` : ''}`, c.eventId]))}</tbody></table>`
    : '<p class="muted">Nothing the evidence shows created is a kind the snapshot reads.</p>';
  const unexplained = now.unexplained.length
    ? `<table><thead><tr><th>kind</th><th>id</th><th>region</th><th>state</th><th>why the logs do not show it</th></tr></thead><tbody>${rows(now.unexplained.map((u) => [u.kind, u.id, u.region ?? '', u.state ?? '', u.why]))}</tbody></table>${nowMore(now) ? `<p class="muted">${nowMore(now)} more not listed.</p>` : ''}`
    : '<p class="muted">Every resource in the snapshot is named by a creating call in the evidence.</p>';
  return `<section id="now"><h2>${escapeHtml(nowHeading(now))}</h2>${created}<h3>In the account, not explained by the evidence (${now.unexplainedTotal ?? NOW_NOT_ASKED})</h3>${unexplained}</section>`;
}

function planHtml(plan: RemediationPlan): string {
  const steps = plan.steps
    .map((s) => {
      const actions = s.actions.length
        ? `<ul>${s.actions
            .map(
              (a) =>
                `<li><label><input type="checkbox"${isDone(a) ? ' checked' : ''}> <strong>${escapeHtml(a.kind)}</strong> <span class="mono">${escapeHtml(a.target)}</span>${a.region ? ` <span class="muted">${escapeHtml(a.region)}</span>` : ''}</label><div>${escapeHtml(a.reason)}</div>${a.done ? `<div class="done">${escapeHtml(doneLine(a)!)}</div>` : ''}${stateLine(plan, a) ? `<div class="state state-${a.state}">${escapeHtml(stateLine(plan, a)!)}</div>` : ''}${a.evidence.length ? `<div class="muted mono">evidence: ${escapeHtml(a.evidence.join(' '))}</div>` : ''}${a.command ? `<pre><code>${escapeHtml(a.command)}</code></pre>` : a.rejected ? `<div class="muted">${escapeHtml(noCommand(a))}</div>` : ''}</li>`,
            )
            .join('')}</ul>`
        : '<p class="muted">Nothing in the evidence for this step.</p>';
      const regions =
        s.id === 'launched-resources'
          ? `<p>Regions with attacker activity: <strong>${escapeHtml(plan.regions.filter((r) => r.attackerActivity).map((r) => `${r.region}${r.launches ? ` (${r.launches} launched)` : ''}`).join(', ') || 'none seen')}</strong>. Check also: ${escapeHtml(plan.regions.filter((r) => !r.attackerActivity).map((r) => r.region).join(', '))}.</p>`
          : '';
      return `<section class="plan"><h3>${s.number}. ${escapeHtml(s.title)}</h3><p class="muted">${escapeHtml(s.guidance)}</p>${actions}${regions}</section>`;
    })
    .join('');
  const caveats = plan.caveats.length ? `<h3>Caveats</h3><ul>${plan.caveats.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>` : '';
  return `<p>Containment time for the session deny policies: <span class="mono">${escapeHtml(plan.containedAt)}</span>. Nothing here has been run: trailhound only reads.</p>${stateSummary(plan) ? `<p><strong>${escapeHtml(stateSummary(plan)!)}</strong></p>` : ''}${steps}${caveats}`;
}

/** The timeline as one self-contained HTML page. */
export function renderTimelineHtml(report: TimelineReport): string {
  const css = REPORT_CSS;
  const js = REPORT_JS;
  const s = report.scope;
  const data = { entries: report.entries.map(entryRecord) };
  const facts = report.facts.map((f) => `<tr><th scope="row">${escapeHtml(f.name)}</th><td>${escapeHtml(f.value)}</td></tr>`).join('');
  const gaps = report.coverage.gaps.length
    ? `<ul>${report.coverage.gaps.map((g) => `<li><strong>${escapeHtml(g.kind)}</strong> ${escapeHtml([g.account, g.region].filter(Boolean).join(' '))} ${g.from ? escapeHtml(`${g.from} .. ${g.to ?? '?'}`) : ''}: ${escapeHtml(g.detail)}</li>`).join('')}</ul>`
    : '<p>No gap recorded: every input was read and no logging stop was seen.</p>';
  const pivots = [...s.keys, ...s.ips, ...s.principals, ...s.sessions];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(css, js)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>${escapeHtml(report.title)}</h1>
<p class="meta">Generated ${escapeHtml(report.generatedAt)} by trailhound ${escapeHtml(report.toolVersion)} · scope: ${pivots.length ? `pivot ${escapeHtml(pivots.join(', '))} with its credential lineage` : 'the whole store'} · window ${escapeHtml(s.since ?? 'start')} .. ${escapeHtml(s.until ?? 'end')} · findings at or above ${escapeHtml(s.minSeverity)}</p>
</header>
<section id="summary"><h2>Summary</h2><ol class="summary">${report.summary.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ol></section>
<section id="facts"><h2>Key facts</h2><table><tbody>${facts}</tbody></table></section>
<section id="activity"><h2>Activity</h2>${activityChart(report.entries)}<h3>By region (events / findings)</h3>${regionChart(report.entries)}</section>
<section id="timeline-section"><h2>Timeline</h2>
<div class="filters">
<input type="search" id="filter-text" placeholder="filter: key, IP, event name, user agent…" aria-label="filter text">
<select id="filter-kind" aria-label="kind"><option value="">findings and events</option><option value="finding">findings</option><option value="event">events</option></select>
<select id="filter-severity" aria-label="severity"><option value="">any severity</option>${[...SEVERITIES].map((v) => `<option value="${v}">findings ≥ ${v}</option>`).join('')}</select>
<select id="filter-region" aria-label="region"><option value="">all regions</option></select>
<span id="row-count" class="muted"></span>
</div>
<table id="timeline"><thead><tr><th data-key="time" aria-sort="ascending">Time (UTC)</th><th data-key="severity">Severity</th><th data-key="summary">What</th><th data-key="who">Key / principal</th><th data-key="sourceIp">Source IP</th><th data-key="userAgent">User agent</th><th data-key="region">Region</th><th data-key="eventIds">Event ids</th></tr></thead><tbody></tbody></table><button type="button" id="show-more" hidden></button>
${report.eventsTruncated ? '<p class="muted">The lineage had more events than the event limit: the timeline lists the earliest ones.</p>' : ''}
</section>
<section id="lineage"><h2>Credential lineage</h2>${report.lineage.length ? lineageTree(report.lineage) : '<p class="muted">No pivot investigated.</p>'}</section>
<section id="coverage"><h2>Coverage</h2><p>${report.coverage.events} event(s) from ${escapeHtml(report.coverage.from ?? '-')} to ${escapeHtml(report.coverage.to ?? '-')}; accounts ${escapeHtml(report.coverage.accounts.join(', ') || '-')}; regions ${escapeHtml(report.coverage.regions.join(', ') || '-')}; sources ${escapeHtml(report.coverage.sources.map((c) => `${c.name} (${c.count})`).join(', ') || '-')}.</p>${gaps}</section>
${report.now ? nowHtml(report.now) : ''}
<section id="plan"><h2>Remediation plan</h2>${planHtml(report.plan)}</section>
<script type="application/json" id="timeline-data">${scriptJson(data)}</script>
<script>${js}</script>
</body>
</html>
`;
}
