import { listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Store } from '../store/store.js';
import { SEVERITIES, type Severity } from './catalog.js';
import { sortFindings, type Finding } from './finding.js';

/**
 * Raw matches of one detection grouped into what a person reads: same detection, outcome,
 * key (or actor when there is no key), source address and resource, each match within the
 * window of the one before it. The finding fields are those of the group's first match;
 * `eventIds` holds every event of the group, `severity` the highest of its matches.
 */
export interface Alert extends Finding {
  /** How many raw matches the alert groups. */
  readonly count: number;
  /** Time of the first and last match (UTC ISO-8601). */
  readonly firstTime: string | null;
  readonly lastTime: string | null;
}

/** How far apart two matches of the same group may be and still be one alert (1 hour). */
export const ALERT_WINDOW_MS = 60 * 60 * 1000;

/** The grouping key of a match: detection, outcome, key or actor, address, resource. */
function groupKey(f: Finding): string {
  return JSON.stringify([f.detection, f.outcome, f.accessKeyId ?? f.actor, f.sourceIp, f.resource]);
}

/**
 * Groups raw matches into alerts (see `Alert`), sorted as findings are. Pure: the same
 * matches always give the same alerts.
 *
 * @example groupAlerts(result.findings) // 5 SSM reads by one key from one address → 1 alert, count 5
 */
export function groupAlerts(findings: readonly Finding[], windowMs: number = ALERT_WINDOW_MS): Alert[] {
  const ordered = sortFindings([...findings]);
  const open = new Map<string, { alert: MutableAlert; last: number }>();
  const alerts: MutableAlert[] = [];
  for (const f of ordered) {
    const key = groupKey(f);
    const at = f.eventTime ? Date.parse(f.eventTime) : Number.NaN;
    const current = open.get(key);
    if (current && (Number.isNaN(at) || Number.isNaN(current.last) || at - current.last <= windowMs)) {
      const a = current.alert;
      a.count++;
      for (const id of f.eventIds) if (!a.seen.has(id)) (a.seen.add(id), a.eventIds.push(id));
      if (SEVERITIES.indexOf(f.severity) > SEVERITIES.indexOf(a.severity)) a.severity = f.severity;
      if (f.eventTime && (!a.lastTime || f.eventTime > a.lastTime)) a.lastTime = f.eventTime;
      if (!Number.isNaN(at)) current.last = at;
      continue;
    }
    const alert: MutableAlert = { ...f, eventIds: [...f.eventIds], seen: new Set(f.eventIds), count: 1, firstTime: f.eventTime, lastTime: f.eventTime };
    alerts.push(alert);
    open.set(key, { alert, last: at });
  }
  return alerts.map(({ seen: _seen, ...alert }) => alert);
}

type MutableAlert = Omit<Alert, 'eventIds' | 'severity' | 'count' | 'lastTime'> & {
  eventIds: string[];
  seen: Set<string>;
  severity: Severity;
  count: number;
  lastTime: string | null;
};

/** Which stored alerts to load. */
export interface AlertFilter {
  /** Only alerts at or above this severity. */
  readonly minSeverity?: Severity;
  /** Only alerts whose last match is at or after `since`, and whose first is before `until`. */
  readonly since?: Date;
  readonly until?: Date;
  /** A given detect run; the latest when absent. */
  readonly runId?: string;
}

/** A row of `findings` (or of a run's matches before they are stored), as JS values. */
export type StoredFinding = {
  detection: string;
  title: string;
  severity: Severity;
  outcome: 'success' | 'attempt';
  tactics: string[] | null;
  techniques: string[] | null;
  event_ids: string[];
  eventtime: string | null;
  eventname: string | null;
  actor: string | null;
  access_key_id: string | null;
  sourceipaddress: string | null;
  account: string | null;
  region: string | null;
  resource: string | null;
  summary: string | null;
};

/** The id of the latest detect run stored, or undefined when detect never ran on this store. */
export async function latestDetectRun(store: Store): Promise<string | undefined> {
  const table = await store.one<{ n: number }>(`select count(*) as n from information_schema.tables where table_name = 'detect_runs'`);
  if (!table || table.n === 0) return undefined;
  const row = await store.one<{ id: string }>(`select detect_run_id as id from detect_runs order by started_at desc, detect_run_id desc limit 1`);
  return row?.id;
}

/**
 * The raw matches of one stored detect run (the latest by default), every severity, sorted by time.
 * Every run is kept whole; `--min-severity` and the other filters are views over it.
 */
export async function loadMatches(store: Store, runId?: string): Promise<Finding[]> {
  const run = runId ?? (await latestDetectRun(store));
  if (!run) return [];
  const rows = await store.all<StoredFinding>(
    `select detection, title, severity, outcome, tactics, techniques, event_ids, eventtime, eventname, actor,
            access_key_id, sourceipaddress, account, region, resource, summary
     from findings
     where detect_run_id = $run
     order by eventtime, event_ids[1], detection, summary`,
    { run },
  );
  return sortFindings(rows.map(fromStored));
}

/** A stored row as a finding. */
export function fromStored(r: StoredFinding): Finding {
  return {
    detection: r.detection,
    title: r.title,
    severity: r.severity,
    outcome: r.outcome,
    tactics: r.tactics ?? [],
    techniques: r.techniques ?? [],
    eventIds: r.event_ids,
    eventTime: r.eventtime,
    eventName: r.eventname,
    actor: r.actor,
    accessKeyId: r.access_key_id,
    sourceIp: r.sourceipaddress,
    account: r.account,
    region: r.region,
    resource: r.resource,
    summary: r.summary,
  };
}

/** The columns that make a group (see `groupKey`), as SQL. */
const GROUP = 'detection, outcome, who, sourceipaddress, resource';

/**
 * `groupAlerts` done inside DuckDB, over a relation with the columns of `findings` (`relation`
 * is SQL text the caller builds from its own table names; `params` are its parameters): only
 * the alerts come back. Matches are ordered as `sortFindings` orders them, a group is split
 * where a match is more than `ALERT_WINDOW_MS` after the latest earlier match of its group
 * (matches without a time join the group they fall in), and each alert takes its first match's
 * fields, the highest severity, every event id once in order, and the last time.
 */
export async function groupAlertsSql(store: Store, relation: string, params: Record<string, DuckDBValue> = {}): Promise<Alert[]> {
  // Read as JSON values (many rows on a noisy account): times come as epoch milliseconds.
  const rows = await store.allJson<Omit<StoredFinding, 'eventtime' | 'title' | 'tactics' | 'techniques' | 'event_ids' | 'severity'> & { eventtime: number | null; n: number; last_time: number | null; top: Severity; ids: string[]; first_seq: number }>(
    `with m as (
       select *, coalesce(access_key_id, actor) as who,
              row_number() over (order by eventtime nulls first, event_ids[1] nulls first, detection, summary, resource, sourceipaddress) as seq
       from ${relation}
     ),
     p as (
       -- only what grouping needs goes through the windows: a noisy account has hundreds of thousands of matches
       select seq, ${GROUP}, eventtime, severity, event_ids,
              row_number() over (partition by ${GROUP} order by seq) as nth,
              max(eventtime) over (partition by ${GROUP} order by seq rows between unbounded preceding and 1 preceding) as prev
       from m
     ),
     g as (
       select seq, ${GROUP}, eventtime, severity, event_ids, sum(case when nth = 1 or (eventtime is not null and prev is not null and eventtime - prev > to_milliseconds($window)) then 1 else 0 end)
                 over (partition by ${GROUP} order by seq rows between unbounded preceding and current row) as grp
       from p
     ),
     a as (
       select ${GROUP}, grp, min(seq) as first_seq, count(*) as n, max(eventtime) as last_time,
              max(list_position($ranks, severity)) as rank, flatten(list(event_ids order by seq)) as ids
       from g
       group by ${GROUP}, grp
     )
     select m.detection, m.outcome, epoch_ms(m.eventtime)::double as eventtime, m.eventname, m.actor,
            m.access_key_id, m.sourceipaddress, m.account, m.region, m.resource, m.summary,
            a.n::integer as n, epoch_ms(a.last_time)::double as last_time, list_extract($ranks, a.rank) as top, a.ids, a.first_seq::double as first_seq
     from a join m on m.seq = a.first_seq`,
    { ...params, window: ALERT_WINDOW_MS, ranks: listValue([...SEVERITIES]) },
  );
  // Title, tactics and techniques follow from the detection and outcome: read once each, not once an alert (a noisy account has 180,000).
  const labels = new Map(
    (
      await store.all<{ detection: string; outcome: string; title: string; tactics: string[] | null; techniques: string[] | null }>(
        `select detection, outcome, any_value(title) as title, any_value(tactics) as tactics, any_value(techniques) as techniques from ${relation} group by all`,
        params,
      )
    ).map((l) => [`${l.detection}\u0000${l.outcome}`, l]),
  );
  return rows
    .sort((x, y) => x.first_seq - y.first_seq)
    .map((r) => {
      const first = isoMs(r.eventtime);
      const label = labels.get(`${r.detection}\u0000${r.outcome}`);
      return {
        detection: r.detection, title: label?.title ?? r.detection, severity: r.top, outcome: r.outcome, tactics: label?.tactics ?? [], techniques: label?.techniques ?? [],
        eventIds: [...new Set(r.ids)], eventTime: first, eventName: r.eventname, actor: r.actor, accessKeyId: r.access_key_id, sourceIp: r.sourceipaddress,
        account: r.account, region: r.region, resource: r.resource, summary: r.summary, count: r.n, firstTime: first, lastTime: isoMs(r.last_time),
      };
    });
}

/**
 * The alerts of the latest stored detect run (or `filter.runId`), filtered as asked; empty when
 * detect never ran. This is what the timeline, the HTML report and the plan read.
 *
 * @example const alerts = await loadAlerts(store, { minSeverity: 'high' });
 */
export async function loadAlerts(store: Store, filter: AlertFilter = {}): Promise<Alert[]> {
  return filterAlerts(groupAlerts(await loadMatches(store, filter.runId)), filter);
}

/** Keeps the alerts at or above `minSeverity` that overlap the `since`..`until` window. */
export function filterAlerts(alerts: readonly Alert[], filter: AlertFilter): Alert[] {
  const floor = SEVERITIES.indexOf(filter.minSeverity ?? 'info');
  const since = filter.since?.toISOString();
  const until = filter.until?.toISOString();
  return alerts.filter(
    (a) =>
      SEVERITIES.indexOf(a.severity) >= floor &&
      (!since || !a.lastTime || iso(a.lastTime) >= since) &&
      (!until || !a.firstTime || iso(a.firstTime) < until),
  );
}

/** Epoch milliseconds as the store writes times (`toPlainRow`): ISO-8601 UTC, no `.000`. */
function isoMs(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

function iso(time: string): string {
  return new Date(time).toISOString();
}
