import { listValue, type DuckDBValue } from '@duckdb/node-api';
import { sizeBytes } from '../core/size.js';
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
 * A run's alerts, read out of DuckDB as they are asked for: a noisy account has hundreds of
 * thousands, and holding them all would make memory grow with them.
 */
export interface AlertStream {
  /** How many alerts there are. */
  readonly count: number;
  /** Each alert as its JSON text (the JSON of the `Alert` object), in order, `size` at a time. */
  jsonBatches(size?: number): AsyncIterable<string[]>;
  /**
   * The alerts as the body of a JSON array, as UTF-8 bytes, `size` alerts a chunk: each alert on
   * a line of its own after `indent`, alerts within a chunk separated by commas (the caller puts
   * one between chunks). Bytes straight from DuckDB: decoding 120 MB of alerts into strings
   * only to encode them again for the output took a second of a noisy account's detect.
   */
  jsonChunks(indent: string, size?: number): AsyncIterable<Uint8Array>;
  /** The alerts in order, `size` at a time. */
  batches(size?: number): AsyncIterable<Alert[]>;
  /** Every alert at once. */
  all(): Promise<Alert[]>;
}

const ALERT_BATCH = 5000;

/** The stream of alerts already held in memory (an Athena run groups its matches in JavaScript). */
export function alertArray(alerts: readonly Alert[]): AlertStream {
  const texts = async (from: number, to: number) => alerts.slice(from, to).map((a) => JSON.stringify(a));
  return streamOf(alerts.length, texts, async (from, to, indent) => Buffer.from((await texts(from, to)).map((t) => `\n${indent}${t}`).join(',')));
}

function streamOf(
  count: number,
  read: (from: number, to: number) => Promise<string[]>,
  readBytes: (from: number, to: number, indent: string) => Promise<Uint8Array>,
): AlertStream {
  const jsonBatches = async function* (size = ALERT_BATCH): AsyncGenerator<string[]> {
    for (let from = 0; from < count; from += size) yield await read(from, Math.min(count, from + size));
  };
  const jsonChunks = async function* (indent: string, size = ALERT_BATCH): AsyncGenerator<Uint8Array> {
    for (let from = 0; from < count; from += size) yield await readBytes(from, Math.min(count, from + size), indent);
  };
  const batches = async function* (size = ALERT_BATCH): AsyncGenerator<Alert[]> {
    for await (const texts of jsonBatches(size)) yield texts.map((t) => JSON.parse(t) as Alert);
  };
  return {
    count,
    jsonBatches,
    jsonChunks,
    batches,
    all: async () => {
      const out: Alert[] = [];
      for await (const batch of batches()) out.push(...batch);
      return out;
    },
  };
}

/**
 * `groupAlerts` done inside DuckDB, over a relation with the columns of `findings` (`relation`
 * is SQL text the caller builds from its own table names; `params` are its parameters). The
 * alerts go into the temporary table `table`, each as its JSON text numbered in order, and the
 * stream reads them from there while the connection lasts (until `table` is replaced).
 * Matches are ordered as `sortFindings` orders them, a group is split where a match is more
 * than `ALERT_WINDOW_MS` after the latest earlier match of its group (matches without a time
 * join the group they fall in), and each alert takes its first match's fields, the highest
 * severity, every event id once in order, and the last time.
 *
 * Done in steps over narrow temporary tables: a noisy account has hundreds of thousands of
 * matches, and one statement numbering them with a window (which runs on one thread when it
 * has no partition) and splitting groups with windows partitioned by five text columns took
 * 1.8–2.4 s for 300,000 matches; these steps take about 1 s.
 */
export async function groupAlertsInto(store: Store, table: string, relation: string, params: Record<string, DuckDBValue> = {}, slice?: number): Promise<AlertStream> {
  try {
    // The matches in the order of findings: a sort, on every thread. A table keeps the order of
    // an ordered insert, so its rowid is each match's place (seq).
    await store.run(
      `create or replace temp table ${MATCHES} as
       select detection, outcome, coalesce(access_key_id, actor) as who, sourceipaddress, resource, eventtime, severity, event_ids,
              eventname, actor, access_key_id, account, region, summary
       from ${relation}
       order by eventtime nulls first, event_ids[1] nulls first, detection, summary, resource, sourceipaddress`,
      params,
    );
    // Each group (see groupKey) as a number, so that the windows below partition on an integer.
    await store.run(`create or replace temp table ${GROUPS} as select distinct ${GROUP} from ${MATCHES}`);
    await store.run(
      `create or replace temp table ${STARTS} as
       with g as (
         select m.rowid as seq, g.rowid as gid, m.eventtime
         from ${MATCHES} m
         join ${GROUPS} g
           on g.detection = m.detection and g.outcome = m.outcome and g.who is not distinct from m.who
          and g.sourceipaddress is not distinct from m.sourceipaddress and g.resource is not distinct from m.resource
       ),
       -- Times rise with seq (no-time matches first), so the latest earlier time of a group is its previous match's.
       p as (
         select seq, gid, eventtime, lag(seq) over w as before, lag(eventtime) over w as prev
         from g window w as (partition by gid order by seq)
       )
       -- a match starts an alert when it is its group's first, or comes more than the window after the one before;
       -- every match belongs to the latest start of its group, and the alert is named by that start's seq
       select seq, max(case when before is null or (eventtime is not null and prev is not null and eventtime - prev > to_milliseconds($window)) then seq end)
                     over (partition by gid order by seq rows between unbounded preceding and current row) as alert
       from p`,
      { window: ALERT_WINDOW_MS },
    );
    // Each alert's place, numbered over the alerts alone (an alert is named by its first match's seq, so n rises with it).
    await store.run(`create or replace temp table ${NUMS} as select alert, row_number() over (order by alert) - 1 as n from (select distinct alert from ${STARTS})`);
    // Title, tactics and techniques follow from the detection and outcome.
    await store.run(
      `create or replace temp table ${LABELS} as
       select detection, outcome, any_value(title) as title, coalesce(any_value(tactics), []) as tactics, coalesce(any_value(techniques), []) as techniques
       from ${relation} group by all`,
      params,
    );
    await store.run(`create or replace temp table ${table} (n bigint, alert varchar)`);
    // As many alerts at a time as the memory limit holds: over all of them at once, the lists of
    // event ids did not fit a small limit (300,317 matches in 183,863 alerts ran DuckDB out of
    // 220 MiB), and each slice costs a pass over the matches (four took 0.3 s more than one).
    const perSlice = slice ?? (await alertsPerSlice(store));
    const slices = await store.all<{ lo: bigint; hi: bigint }>(
      `select min(alert) as lo, max(alert) as hi from ${NUMS} group by n // ${perSlice} order by 1`,
    );
    for (const { lo, hi } of slices) {
      await store.run(
        `insert into ${table}
         with a as (
           -- ids in match order: sorting each alert's list is far cheaper than an ordered aggregate over them all
           select s.alert, count(*) as n, max(m.eventtime) as last_time, max(list_position($ranks, m.severity)) as rank,
                  flatten(list_transform(list_sort(list({s: s.seq, ids: m.event_ids})), x -> x.ids)) as ids
           from ${STARTS} s join ${MATCHES} m on m.rowid = s.seq
           where s.alert between $lo and $hi
           group by s.alert
         )
         select nums.n,
                to_json({
                  'detection': m.detection, 'title': coalesce(l.title, m.detection), 'severity': list_extract($ranks, a.rank), 'outcome': m.outcome,
                  'tactics': coalesce(l.tactics, []), 'techniques': coalesce(l.techniques, []),
                  -- an event cited by two matches of one alert is listed once, where it first appears
                  'eventIds': if(len(a.ids) = len(list_distinct(a.ids)), a.ids, list_filter(a.ids, (id, i) -> list_position(a.ids, id) = i)),
                  'eventTime': ${isoSql('m.eventtime')}, 'eventName': m.eventname, 'actor': m.actor, 'accessKeyId': m.access_key_id,
                  'sourceIp': m.sourceipaddress, 'account': m.account, 'region': m.region, 'resource': m.resource, 'summary': m.summary,
                  'count': a.n::integer, 'firstTime': ${isoSql('m.eventtime')}, 'lastTime': ${isoSql('a.last_time')}
                })::varchar as alert
         from a join ${NUMS} nums on nums.alert = a.alert join ${MATCHES} m on m.rowid = a.alert
         left join ${LABELS} l on l.detection = m.detection and l.outcome = m.outcome
         order by nums.n`,
        { lo, hi, ranks: listValue([...SEVERITIES]) },
      );
    }
  } finally {
    for (const step of [MATCHES, GROUPS, STARTS, NUMS, LABELS]) await store.run(`drop table if exists ${step}`);
  }
  const counted = await store.one<{ n: number }>(`select count(*)::integer as n from ${table}`);
  const rows = (from: number, to: number) => `from ${table} where n >= ${from} and n < ${to}`;
  return streamOf(
    counted?.n ?? 0,
    (from, to) => store.texts(`select alert ${rows(from, to)} order by n`),
    async (from, to, indent) =>
      (await store.bytes(`select encode(string_agg(chr(10) || $indent || alert, ',' order by n)) ${rows(from, to)}`, { indent }))[0] ?? new Uint8Array(),
  );
}

/** The steps of `groupAlertsInto`: the matches in order, the groups, each match's alert, each alert's place. */
const MATCHES = 'temp.alert_matches';
const GROUPS = 'temp.alert_groups';
const STARTS = 'temp.alert_starts';
const NUMS = 'temp.alert_nums';
const LABELS = 'temp.alert_labels';

/**
 * Alerts written per statement (see `groupAlertsInto`): one per 4 KiB of DuckDB's memory
 * limit, at least 10,000. At 220 MiB, 50,000 alerts a statement fit where 183,863 did not.
 */
async function alertsPerSlice(store: Store): Promise<number> {
  const setting = await store.one<{ v: string }>(`select current_setting('memory_limit') as v`);
  // DuckDB gives it back as a size ('988.0 MiB', '1.5 GiB').
  const bytes = sizeBytes(setting?.v ?? '');
  return Math.max(10_000, Math.floor((bytes ?? 256 * 2 ** 20) / 4096));
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
