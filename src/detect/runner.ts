import { randomBytes } from 'node:crypto';
import { BOOLEAN, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { prepareEnrichment } from '../enrich/store-tables.js';
import type { Store } from '../store/store.js';
import { fromStored, groupAlertsInto, type AlertStream, type StoredFinding } from './alerts.js';
import { SEVERITIES, type Detection, type SensitiveEvent, type Severity } from './catalog.js';
import { sortFindings, type Finding } from './finding.js';

/** Which detections to run, over which window. */
export interface DetectOptions {
  readonly since?: Date;
  readonly until?: Date;
  readonly minSeverity?: Severity;
  /** The sensitive-calls catalog, for detections that read `sensitive_events`. */
  readonly sensitive?: readonly SensitiveEvent[];
  /** The whole catalog, which decides which sensitive calls are covered (default: the detections run). */
  readonly catalog?: readonly Detection[];
}

/**
 * Puts the sensitive-calls catalog in a temporary `sensitive_events` table, each call marked
 * `covered` when a dedicated detection already names its event.
 */
export async function prepareReference(store: Store, detections: readonly Detection[], sensitive: readonly SensitiveEvent[]): Promise<void> {
  const covered = new Set(detections.flatMap((d) => eventNamesOf(d.sql)));
  await store.run(
    `create or replace temp table sensitive_events as
     select unnest($source) as eventsource, unnest($name) as eventname, unnest($tactic) as tactic,
            unnest($severity) as importance, unnest($why) as why, unnest($covered) as covered`,
    {
      source: listValue(sensitive.map((e) => e.source)),
      name: listValue(sensitive.map((e) => e.name)),
      tactic: listValue(sensitive.map((e) => e.tactic)),
      severity: listValue(sensitive.map((e) => e.severity)),
      why: listValue(sensitive.map((e) => e.why)),
      covered: listValue(sensitive.map((e) => covered.has(e.name))),
    },
    { source: LIST(VARCHAR), name: LIST(VARCHAR), tactic: LIST(VARCHAR), severity: LIST(VARCHAR), why: LIST(VARCHAR), covered: LIST(BOOLEAN) },
  );
  // Geography, ownership and client class of each distinct address and agent, for the detections that read them.
  await prepareEnrichment(store);
}

/** A detection whose SQL failed on this store (the others still run). */
export interface DetectionFailure {
  readonly detection: string;
  readonly reason: string;
}

/** What a detect run gives back without holding its raw matches: their count and their alerts. */
export interface DetectSummary {
  readonly runId: string;
  readonly detections: number;
  /** Raw matches at or above `minSeverity` (the store keeps all of them, whatever the floor). */
  readonly matches: number;
  /** Those matches grouped (see `Alert`), sorted as findings are; read as they are asked for. */
  readonly alerts: AlertStream;
  readonly failures: readonly DetectionFailure[];
}

/** A detect run with its raw matches read back (tests, the demo, Athena's local part). */
export interface DetectResult extends DetectSummary {
  /** Raw matches at or above `minSeverity`, sorted. */
  readonly findings: readonly Finding[];
}

/** Runs one detection's SQL over `events` inside the window; rows come back in the contract's columns. */
export async function evaluate(store: Store, detection: Detection, options: DetectOptions = {}): Promise<Finding[]> {
  const rows = await store.all<ContractRow & Record<string, unknown>>(
    `select *
     from (${detection.sql}) as d
     where ($since::timestamptz is null or eventtime >= $since::timestamptz)
       and ($until::timestamptz is null or eventtime < $until::timestamptz)
     order by eventtime, eventid`,
    { since: options.since?.toISOString() ?? null, until: options.until?.toISOString() ?? null },
  );
  return toFindings(detection, rows);
}

/** The columns a detection returns, as JS values (times as UTC ISO-8601, `eventids` as a list). */
export type ContractRow = {
  eventtime: string | null;
  eventid: string | null;
  eventname: string | null;
  actor: string | null;
  access_key_id: string | null;
  sourceipaddress: string | null;
  account: string | null;
  region: string | null;
  resource: string | null;
  outcome: string | null;
  summary: string | null;
  eventids?: string[] | null;
  /** A severity chosen from context (optional last column); the detection's own when absent or not a severity. */
  severity?: string | null;
};

/** Turns a detection's rows into findings; every engine maps its rows through this one function. */
export function toFindings(detection: Detection, rows: readonly ContractRow[]): Finding[] {
  // A detection without an attempt severity does not report failed calls: they are routine noise.
  const reported = detection.attemptSeverity ? rows : rows.filter((row) => row.outcome !== 'attempt');
  return reported.map((row) => {
    const outcome = row.outcome === 'attempt' ? 'attempt' : 'success';
    return {
      detection: detection.id,
      title: outcome === 'attempt' ? `${detection.title} (attempt)` : detection.title,
      severity: outcome === 'attempt' ? detection.attemptSeverity! : contextSeverity(row.severity) ?? detection.severity,
      outcome,
      tactics: detection.tactics,
      techniques: detection.techniques,
      // A record without an eventID has a null eventid: it cannot be cited by id.
      eventIds: (row.eventids ?? [row.eventid]).filter((id): id is string => typeof id === 'string' && id !== ''),
      eventTime: row.eventtime,
      eventName: row.eventname,
      actor: row.actor,
      accessKeyId: row.access_key_id,
      sourceIp: row.sourceipaddress,
      account: row.account,
      region: row.region,
      resource: row.resource,
      summary: row.summary,
    };
  });
}

function contextSeverity(value: string | null | undefined): Severity | undefined {
  return SEVERITIES.includes(value as Severity) ? (value as Severity) : undefined;
}

/** Whether `severity` is at least `floor`. */
export function atLeast(severity: Severity, floor: Severity | undefined): boolean {
  return floor === undefined || SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);
}

/**
 * Runs detections over the store and records every raw match of this run in `findings` under
 * its run id, at every severity: earlier runs stay, and `minSeverity` only filters what is
 * returned (a view), never what is stored. `loadAlerts` reads the latest run back.
 *
 * Bounded: each detection's rows go from its query into a temporary table inside DuckDB, the
 * alerts are grouped in SQL into another, and what comes back to JavaScript is a count and the
 * alerts a batch at a time as the caller reads them, so JavaScript's memory follows a batch,
 * not the raw matches or the alerts. `runDetections` also reads the matches back.
 */
export async function detect(store: Store, detections: readonly Detection[], options: DetectOptions = {}): Promise<DetectSummary> {
  return detectRun(store, detections, options, false);
}

/** `detect`, with the run's raw matches at or above `minSeverity` read back too. */
export async function runDetections(store: Store, detections: readonly Detection[], options: DetectOptions = {}): Promise<DetectResult> {
  return detectRun(store, detections, options, true);
}

async function detectRun(store: Store, detections: readonly Detection[], options: DetectOptions, withMatches: false): Promise<DetectSummary>;
async function detectRun(store: Store, detections: readonly Detection[], options: DetectOptions, withMatches: true): Promise<DetectResult>;
async function detectRun(store: Store, detections: readonly Detection[], options: DetectOptions, withMatches: boolean): Promise<DetectSummary | DetectResult> {
  const runId = `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
  const failures: DetectionFailure[] = [];
  await store.run(`create or replace temp table ${RUN_MATCHES} (${MATCH_COLUMNS})`);
  try {
    const run = async (detection: Detection) => {
      const started = performance.now();
      try {
        await insertMatches(store, detection, options);
        if (process.env['TRAILHOUND_DEBUG_SQL']) process.stderr.write(`[detection ${(performance.now() - started).toFixed(0)} ms] ${detection.id}\n`);
      } catch (error) {
        failures.push({ detection: detection.id, reason: failureReason(error) });
      }
    };
    const catalog = options.catalog ?? detections;
    if (options.sensitive) await prepareReference(store, catalog, options.sensitive);
    // A detection over the sensitive-calls table needs exactly the calls no other detection covers.
    const covered = new Set(catalog.flatMap((d) => eventNamesOf(d.sql)));
    const uncovered = (options.sensitive ?? []).filter((e) => !covered.has(e.name) && e.severity !== 'info').map((e) => e.name);
    // Names compared in lower case: a Sigma rule's are (it matches case-insensitively), and the copy may hold more than a detection needs, never less.
    const namesFor = (d: Detection) => [...(d.eventNames ?? eventNamesOf(d.sql)), ...(/\bsensitive_events\b/.test(d.sql) ? uncovered : [])].map((n) => n.toLowerCase());
    // Copying the records of very common events (GetObject, AssumeRole) would cost more than it saves.
    const heavy = await commonEventNames(store, [...new Set(detections.flatMap(namesFor))]);
    const named = detections.filter((d) => namesFor(d).length > 0 && !namesFor(d).some((n) => heavy.has(n)));
    for (const detection of detections.filter((d) => !named.includes(d))) await run(detection);
    const names = [...new Set(named.flatMap(namesFor))].sort();
    await store.run(`create or replace temp table events as select * from main.events where list_contains($names, lower(eventname))`, { names: listValue(names) }, { names: LIST(VARCHAR) });
    try {
      for (const detection of named) await run(detection);
    } finally {
      await store.run('drop table if exists temp.events');
      await store.run('drop table if exists temp.sensitive_events');
    }
    if (!store.readOnly) await saveRun(store, runId, detections.length, options);
    const floor = { severities: listValue(SEVERITIES.filter((s) => atLeast(s, options.minSeverity))) };
    const kept = `(select * from ${RUN_MATCHES} where list_contains($severities, severity))`;
    const counted = await store.one<{ n: number }>(`select count(*) as n from ${kept}`, floor);
    // The alerts stay in DuckDB (a temporary table, until the next run) and are read in batches as the caller writes them.
    const alerts = await groupAlertsInto(store, RUN_ALERTS, kept, floor);
    const summary: DetectSummary = { runId, detections: detections.length, matches: Number(counted?.n ?? 0), alerts, failures };
    if (!withMatches) return summary;
    const rows = await store.all<StoredFinding>(`select * from ${kept}`, floor);
    return { ...summary, findings: sortFindings(rows.map(fromStored)) };
  } finally {
    await store.run(`drop table if exists ${RUN_MATCHES}`);
  }
}

/** Why a detection failed, in one line; when DuckDB ran out of memory, what to do about it. */
export function failureReason(error: unknown): string {
  const line = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return /^Out of Memory Error\b/.test(line) ? `${line}: the other detections ran; run this one again with a larger --memory-limit` : line;
}

/** The latest run's alerts, each as its JSON text numbered in order (see `groupAlertsInto`). */
const RUN_ALERTS = 'temp.run_alerts';

/** This run's raw matches, before they are stored under its id: the columns of `findings` but the run's. */
const RUN_MATCHES = 'temp.run_matches';
const MATCH_COLUMNS = `detection varchar not null, title varchar not null, severity varchar not null, outcome varchar not null,
  tactics varchar[], techniques varchar[], event_ids varchar[] not null, eventtime timestamptz, eventname varchar, actor varchar,
  access_key_id varchar, sourceipaddress varchar, account varchar, region varchar, resource varchar, summary varchar`;

/**
 * Runs one detection's SQL inside the window and inserts its rows as findings, mapped as
 * `toFindings` maps them (the same title, severity, outcome and event ids), without leaving DuckDB.
 */
async function insertMatches(store: Store, detection: Detection, options: DetectOptions): Promise<void> {
  const described = await store.all<{ column_name: string }>(`describe select * from (${detection.sql}) as d`);
  const has = new Set(described.map((c) => c.column_name.toLowerCase()));
  const text = (column: string) => (has.has(column) ? `d.${column}::varchar` : 'null::varchar');
  const context = has.has('severity') ? `case when list_contains($severities, d.severity::varchar) then d.severity::varchar end` : 'null';
  const ids = has.has('eventids') ? `coalesce(d.eventids::varchar[], [d.eventid::varchar])` : `[d.eventid::varchar]`;
  const attempt = `d.outcome::varchar is not distinct from 'attempt'`;
  await store.run(
    `insert into ${RUN_MATCHES}
     select $detection,
            case when ${attempt} then $title || ' (attempt)' else $title end,
            case when ${attempt} then $attemptSeverity else coalesce(${context}, $severity) end,
            case when ${attempt} then 'attempt' else 'success' end,
            $tactics, $techniques,
            -- A record without an eventID has a null eventid: it cannot be cited by id.
            list_filter(${ids}, lambda id: id is not null and id <> ''),
            d.eventtime::timestamptz, ${text('eventname')}, ${text('actor')}, ${text('access_key_id')}, ${text('sourceipaddress')},
            ${text('account')}, ${text('region')}, ${text('resource')}, ${text('summary')}
     from (${detection.sql}) as d
     where ($since::timestamptz is null or d.eventtime >= $since::timestamptz)
       and ($until::timestamptz is null or d.eventtime < $until::timestamptz)
       -- A detection without an attempt severity does not report failed calls: they are routine noise.
       and ($attemptSeverity is not null or not (${attempt}))`,
    {
      detection: detection.id,
      title: detection.title,
      severity: detection.severity,
      attemptSeverity: detection.attemptSeverity ?? null,
      // Bound only when used: DuckDB refuses a parameter the statement does not name.
      ...(has.has('severity') ? { severities: listValue([...SEVERITIES]) } : {}),
      tactics: listValue([...detection.tactics]),
      techniques: listValue([...detection.techniques]),
      since: options.since?.toISOString() ?? null,
      until: options.until?.toISOString() ?? null,
    },
    { detection: VARCHAR, title: VARCHAR, severity: VARCHAR, attemptSeverity: VARCHAR, severities: LIST(VARCHAR), tactics: LIST(VARCHAR), techniques: LIST(VARCHAR), since: VARCHAR, until: VARCHAR },
  );
}

/** Event names that make up more than 2% of the store (and at least 20,000 events). */
async function commonEventNames(store: Store, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await store.all<{ eventname: string; n: number; total: number }>(
    `select eventname, n, total from (
       select lower(eventname) as eventname, count(*) as n, sum(count(*)) over () as total from main.events group by 1
     ) where list_contains($names, eventname)`,
    { names: listValue([...names]) },
    { names: LIST(VARCHAR) },
  );
  return new Set(rows.filter((r) => r.n >= 20_000 && r.n > r.total * 0.02).map((r) => r.eventname));
}

/**
 * The event names a detection's SQL is limited to (`eventname = '…'` or `eventname in (…)`),
 * or none when it does not name them, or reads `events` more than once (a later read may
 * need events of other names), and so must see every event.
 */
export function eventNamesOf(sql: string): string[] {
  if ((sql.match(/\b(from|join)\s+events\b/gi) ?? []).length !== 1) return [];
  const names: string[] = [];
  for (const match of sql.matchAll(/\beventname\s*(?:=\s*'([A-Za-z0-9]+)'|in\s*\(([^)]*)\))/gi)) {
    if (match[1]) names.push(match[1]);
    if (match[2]) for (const literal of match[2].matchAll(/'([A-Za-z0-9]+)'/g)) names.push(literal[1]!);
  }
  return names;
}

/** Stores the run: its row in `detect_runs` and every raw match under its id, in one transaction. */
async function saveRun(store: Store, runId: string, count: number, options: DetectOptions): Promise<void> {
  await store.transaction(async () => {
    await store.run(`insert into detect_runs select ?, now(), now(), ?, ?, ?, (select count(*) from ${RUN_MATCHES})`, [
      runId,
      JSON.stringify({ since: options.since ? isoSeconds(options.since) : null, until: options.until ? isoSeconds(options.until) : null }),
      toolVersion(),
      count,
    ]);
    await store.run(`insert into findings select ?, * from ${RUN_MATCHES}`, [runId]);
  });
}
