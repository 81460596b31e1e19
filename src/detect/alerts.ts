import type { Store } from '../store/store.js';
import { SEVERITIES, type Severity } from './catalog.js';
import { sortFindings, type Finding } from './runner.js';

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

type StoredFinding = {
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
  return sortFindings(
    rows.map((r) => ({
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
    })),
  );
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

function iso(time: string): string {
  return new Date(time).toISOString();
}
