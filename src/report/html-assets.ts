/**
 * The stylesheet and script inlined into the HTML report. They are constants so that the
 * Content-Security-Policy can allow exactly them by hash; the script renders the timeline
 * rows from the embedded JSON with textContent only, never as markup.
 */

/** The report's stylesheet. */
export const REPORT_CSS = `
:root { --fg: #1d2430; --muted: #5b6575; --line: #d8dde6; --bg: #ffffff; --band: #f4f6fa;
  --critical: #8e1b1b; --high: #d0451b; --medium: #c98a00; --low: #3a7bbf; --info: #7a8699; --event: #9aa5b5; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 64px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta, .muted { color: var(--muted); }
.done { color: var(--ok, #1a7f37); font-weight: 600; }
.state-open { color: #b42318; font-weight: 600; }
.state-done { color: var(--ok, #1a7f37); }
.state-unknown { color: #6b7280; }
button.fold { margin-left: 6px; font: inherit; font-size: 12px; cursor: pointer; }
tr.child td:first-child { padding-left: 20px; }
#show-more { margin: 8px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { background: var(--band); position: sticky; top: 0; overflow-wrap: normal; white-space: nowrap; }
td.nowrap { white-space: nowrap; overflow-wrap: normal; }
td.ua { max-width: 240px; font-size: 12px; color: var(--muted); }
td.who { max-width: 220px; }
#timeline th[data-key] { cursor: pointer; user-select: none; }
#timeline th[aria-sort="ascending"]::after { content: " \\25B2"; }
#timeline th[aria-sort="descending"]::after { content: " \\25BC"; }
#timeline tr.finding td { background: #fff8f0; }
.sev { display: inline-block; min-width: 64px; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px; text-align: center; }
.sev-critical { background: var(--critical); } .sev-high { background: var(--high); } .sev-medium { background: var(--medium); }
.sev-low { background: var(--low); } .sev-info { background: var(--info); } .sev-event { background: var(--event); }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
.filters input[type=search] { min-width: 280px; padding: 4px 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: var(--band); padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0 0; }
ol.summary li { margin: 2px 0; }
ul.tree, ul.tree ul { list-style: none; padding-left: 18px; border-left: 1px dashed var(--line); }
ul.tree { padding-left: 0; border: 0; }
ul.tree li { margin: 4px 0; }
.kind { font-weight: 600; }
.plan li { margin: 8px 0; list-style: none; }
.plan ul { padding-left: 0; }
.chart { max-width: 100%; height: auto; }
.legend span { margin-right: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
`;

/** The report's script: filters, sorting, and the rows of the timeline table. */
export const REPORT_JS = `
(function () {
  'use strict';
  var source = document.getElementById('timeline-data');
  var data = JSON.parse(source.textContent);
  var entries = data.entries;
  var tbody = document.querySelector('#timeline tbody');
  var q = document.getElementById('filter-text');
  var kind = document.getElementById('filter-kind');
  var sev = document.getElementById('filter-severity');
  var region = document.getElementById('filter-region');
  var count = document.getElementById('row-count');
  var RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var SEVERITY_CLASS = { info: 'sev-info', low: 'sev-low', medium: 'sev-medium', high: 'sev-high', critical: 'sev-critical' };
  var sortKey = 'time';
  var sortDir = 1;

  var regions = [];
  entries.forEach(function (e) { if (e.region && regions.indexOf(e.region) < 0) regions.push(e.region); });
  regions.sort().forEach(function (r) {
    var option = document.createElement('option');
    option.value = r;
    option.textContent = r;
    region.appendChild(option);
  });

  function haystack(e) {
    return [e.time, e.kind, e.severity, e.detection, e.title, e.summary, e.accessKeyId, e.actor, e.sourceIp, e.network, e.userAgent, e.agentClass, e.region, e.account, e.errorCode, e.eventIds.join(' ')]
      .join(' ').toLowerCase();
  }
  entries.forEach(function (e) { e._text = haystack(e); });

  function value(e, key) {
    if (key === 'severity') return e.severity ? RANK[e.severity] + 1 : 0;
    if (key === 'who') return (e.accessKeyId || '') + (e.actor || '');
    if (key === 'eventIds') return e.eventIds.join(' ');
    var v = e[key];
    return v === null || v === undefined ? '' : String(v);
  }

  // Long log strings are cut in the cell (the whole text stays in its tooltip and in the data).
  var CELL_CHARS = 300;
  function cell(tr, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    var full = text === null || text === undefined ? '' : String(text);
    td.textContent = full.length > CELL_CHARS ? full.slice(0, CELL_CHARS - 1) + '\u2026' : full;
    if (full.length > CELL_CHARS) td.title = full;
    tr.appendChild(td);
    return td;
  }

  // Each event is folded under the first finding that cites it; the finding's row opens them.
  var byFirstId = {};
  entries.forEach(function (e) { if (e.kind !== 'finding' && e.eventIds.length) byFirstId[e.eventIds[0]] = e; });
  entries.forEach(function (f) {
    if (f.kind !== 'finding') return;
    f._children = [];
    f.eventIds.forEach(function (id) {
      var e = byFirstId[id];
      if (e && !e._owner) { e._owner = f; f._children.push(e); }
    });
  });
  var PAGE = 500;
  var limit = PAGE;
  var more = document.getElementById('show-more');

  function row(e) {
    var tr = document.createElement('tr');
    tr.className = e.kind;
    tr.setAttribute('data-kind', e.kind);
    cell(tr, e.time, 'mono nowrap');
    var sevCell = document.createElement('td');
    var badge = document.createElement('span');
    badge.className = 'sev ' + (e.kind === 'finding' ? (SEVERITY_CLASS[e.severity] || 'sev-info') : 'sev-event');
    badge.textContent = e.kind === 'finding' ? e.severity : 'event';
    sevCell.appendChild(badge);
    tr.appendChild(sevCell);
    var what = cell(tr, e.kind === 'finding' ? e.detection + (e.outcome === 'attempt' ? ' (attempt)' : '') + ': ' + e.summary : e.summary);
    if (e._owner && folding()) tr.className += ' child';
    if (e._children && e._children.length && folding()) {
      var toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.className = 'fold';
      toggle.setAttribute('aria-expanded', e._open ? 'true' : 'false');
      toggle.textContent = (e._open ? '\u25be ' : '\u25b8 ') + e._children.length + (e._children.length === 1 ? ' event' : ' events');
      toggle.addEventListener('click', function () { e._open = !e._open; render(); });
      what.appendChild(toggle);
    }
    if (e.techniques.length) {
      var small = document.createElement('div');
      small.className = 'muted';
      small.textContent = e.techniques.join(' ');
      what.appendChild(small);
    }
    if (e.citedBy.length) {
      var cited = document.createElement('div');
      cited.className = 'muted';
      cited.textContent = 'cited by ' + e.citedBy.join(', ');
      what.appendChild(cited);
    }
    cell(tr, [e.accessKeyId, e.actor].filter(Boolean).join(' '), 'mono who');
    var ip = cell(tr, e.sourceIp, 'mono nowrap');
    if (e.network) {
      var net = document.createElement('div');
      net.className = 'muted';
      net.textContent = e.network;
      ip.appendChild(net);
    }
    var ua = cell(tr, e.userAgent, 'ua');
    if (e.agentClass) {
      var cls = document.createElement('div');
      cls.className = 'muted';
      cls.textContent = e.agentClass;
      ua.insertBefore(cls, ua.firstChild);
    }
    cell(tr, e.region, 'nowrap');
    // A finding may cite hundreds of events: three ids in the cell, the rest behind a disclosure.
    var ids = cell(tr, e.eventIds.slice(0, 3).join(' '), 'mono');
    if (e.eventIds.length > 3) {
      var rest = document.createElement('details');
      var label = document.createElement('summary');
      label.textContent = '+' + (e.eventIds.length - 3) + ' more';
      rest.appendChild(label);
      var list = document.createElement('div');
      list.textContent = e.eventIds.slice(3).join(' ');
      rest.appendChild(list);
      ids.appendChild(rest);
    }
    ids.title = e.provenance.map(function (p) { return p.uri + (p.recordIndex === null ? '' : '#' + p.recordIndex); }).join('\\n');
    return tr;
  }

  // Folded while no filter is set; a filter shows every matching row.
  function folding() {
    return !q.value.trim() && !kind.value && !sev.value && !region.value;
  }

  function render() {
    var needle = q.value.trim().toLowerCase();
    var floor = sev.value === '' ? -1 : RANK[sev.value];
    var fold = folding();
    var shown = entries.filter(function (e) {
      if (fold && e._owner && !e._owner._open) return false;
      if (kind.value && e.kind !== kind.value) return false;
      if (floor >= 0 && (e.kind !== 'finding' || RANK[e.severity] < floor)) return false;
      if (region.value && e.region !== region.value) return false;
      return !needle || e._text.indexOf(needle) >= 0;
    });
    shown.sort(function (a, b) {
      var x = value(a, sortKey), y = value(b, sortKey);
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a._order - b._order;
    });
    if (fold) {
      // An open finding's events follow it, in time order.
      var ordered = [];
      shown.forEach(function (e) {
        if (e._owner) return;
        ordered.push(e);
        if (e._open && e._children) e._children.forEach(function (c) { ordered.push(c); });
      });
      shown = ordered;
    }
    var fragment = document.createDocumentFragment();
    shown.slice(0, limit).forEach(function (e) { fragment.appendChild(row(e)); });
    tbody.replaceChildren(fragment);
    var folded = fold ? entries.filter(function (e) { return e._owner && !e._owner._open; }).length : 0;
    count.textContent = Math.min(shown.length, limit) + ' of ' + entries.length + ' rows' + (folded ? ' (' + folded + ' events folded under their findings)' : '');
    more.hidden = shown.length <= limit;
    more.textContent = 'Show ' + Math.min(PAGE, shown.length - limit) + ' more rows';
  }
  more.addEventListener('click', function () { limit += PAGE; render(); });

  entries.forEach(function (e, i) { e._order = i; });
  [q, kind, sev, region].forEach(function (el) { function reset() { limit = PAGE; render(); } el.addEventListener('input', reset); el.addEventListener('change', reset); });
  Array.prototype.forEach.call(document.querySelectorAll('#timeline th[data-key]'), function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      sortDir = key === sortKey ? -sortDir : 1;
      sortKey = key;
      Array.prototype.forEach.call(document.querySelectorAll('#timeline th[data-key]'), function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', sortDir === 1 ? 'ascending' : 'descending');
      render();
    });
  });
  render();
})();
`;
