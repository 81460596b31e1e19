import { randomBytes } from 'node:crypto';
import { BOOLEAN, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { prepareEnrichment } from '../enrich/store-tables.js';
import type { Store } from '../store/store.js';
import { SEVERITIES, type Detection, type SensitiveEvent, type Severity } from './catalog.js';

/** One thing a detection found, traceable to its events. */
export interface Finding {
  readonly detection: string;
  readonly title: string;
  readonly severity: Severity;
  readonly outcome: 'success' | 'attempt';
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly eventIds: readonly string[];
  readonly eventTime: string | null;
  readonly eventName: string | null;
  readonly actor: string | null;
  readonly accessKeyId: string | null;
  readonly sourceIp: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly resource: string | null;
  readonly summary: string | null;
}

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

/** The result of a detect run. */
export interface DetectResult {
  readonly runId: string;
  readonly detections: number;
  /** Raw matches at or above `minSeverity` (the store keeps all of them, whatever the floor). */
  readonly findings: readonly Finding[];
  readonly failures: readonly DetectionFailure[];
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
 */
export async function runDetections(store: Store, detections: readonly Detection[], options: DetectOptions = {}): Promise<DetectResult> {
  const runId = `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
  const findings: Finding[] = [];
  const failures: DetectionFailure[] = [];
  const run = async (detection: Detection) => {
    try {
      // One by one: spreading a detection's findings into push overflows the stack past ~100k.
      for (const finding of await evaluate(store, detection, options)) findings.push(finding);
    } catch (error) {
      failures.push({ detection: detection.id, reason: ((error as Error).message ?? String(error)).split('\n')[0]! });
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
  sortFindings(findings);
  if (!store.readOnly) await saveFindings(store, runId, detections.length, findings, options);
  return { runId, detections: detections.length, findings: findings.filter((f) => atLeast(f.severity, options.minSeverity)), failures };
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

/** Sorts findings in place by event time, first event id, then detection: the order every engine reports. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => compare(a.eventTime, b.eventTime) || compare(a.eventIds[0] ?? null, b.eventIds[0] ?? null) || compare(a.detection, b.detection));
}

function compare(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

async function saveFindings(store: Store, runId: string, count: number, findings: readonly Finding[], options: DetectOptions): Promise<void> {
  await store.transaction(async () => {
    await store.run(`insert into detect_runs values (?, now(), now(), ?, ?, ?, ?)`, [
      runId,
      JSON.stringify({ since: options.since ? isoSeconds(options.since) : null, until: options.until ? isoSeconds(options.until) : null }),
      toolVersion(),
      count,
      findings.length,
    ]);
    if (findings.length === 0) return;
    const column = <T>(get: (f: Finding) => T) => findings.map(get);
    const strings = (values: ReadonlyArray<string | null>) => listValue([...values]);
    const lists = (values: ReadonlyArray<readonly string[]>) => listValue(values.map((v) => listValue([...v])));
    await store.run(
      `insert into findings
       select $run, unnest($detection), unnest($title), unnest($severity), unnest($outcome), unnest($tactics), unnest($techniques), unnest($events),
              unnest($time)::timestamptz, unnest($name), unnest($actor), unnest($key), unnest($ip), unnest($account), unnest($region), unnest($resource), unnest($summary)`,
      {
        run: runId,
        detection: strings(column((f) => f.detection)),
        title: strings(column((f) => f.title)),
        severity: strings(column((f) => f.severity)),
        outcome: strings(column((f) => f.outcome)),
        tactics: lists(column((f) => f.tactics)),
        techniques: lists(column((f) => f.techniques)),
        events: lists(column((f) => f.eventIds)),
        time: strings(column((f) => f.eventTime)),
        name: strings(column((f) => f.eventName)),
        actor: strings(column((f) => f.actor)),
        key: strings(column((f) => f.accessKeyId)),
        ip: strings(column((f) => f.sourceIp)),
        account: strings(column((f) => f.account)),
        region: strings(column((f) => f.region)),
        resource: strings(column((f) => f.resource)),
        summary: strings(column((f) => f.summary)),
      },
      {
        ...Object.fromEntries(['detection', 'title', 'severity', 'outcome', 'time', 'name', 'actor', 'key', 'ip', 'account', 'region', 'resource', 'summary'].map((k) => [k, LIST(VARCHAR)])),
        tactics: LIST(LIST(VARCHAR)),
        techniques: LIST(LIST(VARCHAR)),
        events: LIST(LIST(VARCHAR)),
      },
    );
  });
}
