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
  // Read as JSON text (a noisy account has 180,000 alerts); times already in the store's form.
  const rows = await store.allJson<Omit<StoredFinding, 'title' | 'tactics' | 'techniques' | 'event_ids' | 'severity'> & { n: number; last_time: string | null; top: Severity; ids: string[] }>(
    `with m as materialized (
       -- the fields an alert shows, and each match's place in the order of findings
       select detection, outcome, coalesce(access_key_id, actor) as who, sourceipaddress, resource, eventtime, severity, event_ids,
              eventname, actor, access_key_id, account, region, summary,
              row_number() over (order by eventtime nulls first, event_ids[1] nulls first, detection, summary, resource, sourceipaddress) as seq
       from ${relation}
     ),
     p as (
       -- only what grouping needs goes through the windows: a noisy account has hundreds of thousands of matches.
       -- Times rise with seq (no-time matches first), so the latest earlier time of a group is its previous match's.
       select seq, ${GROUP}, eventtime, lag(seq) over w as before, lag(eventtime) over w as prev
       from m
       window w as (partition by ${GROUP} order by seq)
     ),
     k as (
       -- a match starts an alert when it is its group's first, or comes more than the window after the one before;
       -- every match belongs to the latest start of its group, and the alert is named by that start's seq
       select seq, max(case when before is null or (eventtime is not null and prev is not null and eventtime - prev > to_milliseconds($window)) then seq end)
                     over (partition by ${GROUP} order by seq rows between unbounded preceding and current row) as alert
       from p
     ),
     a as (
       -- ids in match order: sorting each alert's list is far cheaper than an ordered aggregate over them all
       select k.alert, count(*) as n, max(m.eventtime) as last_time, max(list_position($ranks, m.severity)) as rank,
              flatten(list_transform(list_sort(list({s: m.seq, ids: m.event_ids})), x -> x.ids)) as ids
       from k join m on m.seq = k.seq
       group by k.alert
     )
     select m.detection, m.outcome, ${isoSql('m.eventtime')} as eventtime, m.eventname, m.actor, m.access_key_id, m.sourceipaddress,
            m.account, m.region, m.resource, m.summary, a.n::integer as n, ${isoSql('a.last_time')} as last_time,
            list_extract($ranks, a.rank) as top, a.ids
     from a join m on m.seq = a.alert
     order by a.alert`,
    { ...params, window: ALERT_WINDOW_MS, ranks: listValue([...SEVERITIES]) },
  );
  // Title, tactics and techniques follow from the detection and outcome: read once each and shared, not once an alert.
  const labels = new Map(
    (
      await store.all<{ detection: string; outcome: string; title: string; tactics: string[] | null; techniques: string[] | null }>(
        `select detection, outcome, any_value(title) as title, any_value(tactics) as tactics, any_value(techniques) as techniques from ${relation} group by all`,
        params,
      )
    ).map((l) => [`${l.detection}\u0000${l.outcome}`, l]),
  );
  return rows.map((r) => {
    const label = labels.get(`${r.detection}\u0000${r.outcome}`);
    return {
      detection: r.detection, title: label?.title ?? r.detection, severity: r.top, outcome: r.outcome, tactics: label?.tactics ?? [], techniques: label?.techniques ?? [],
      // an event cited by two matches of one alert is listed once
      eventIds: r.ids.length > 1 ? [...new Set(r.ids)] : r.ids, eventTime: r.eventtime, eventName: r.eventname, actor: r.actor, accessKeyId: r.access_key_id,
      sourceIp: r.sourceipaddress, account: r.account, region: r.region, resource: r.resource, summary: r.summary, count: r.n, firstTime: r.eventtime, lastTime: r.last_time,
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

/** A time as SQL text in the form the store writes times (`toPlainRow`): ISO-8601 UTC, no `.000`. */
function isoSql(time: string): string {
  return `case when microsecond(${time}) % 1000000 >= 1000 then strftime(${time}, '%Y-%m-%dT%H:%M:%S.%gZ') else strftime(${time}, '%Y-%m-%dT%H:%M:%SZ') end`;
}

function iso(time: string): string {
  return new Date(time).toISOString();
}
