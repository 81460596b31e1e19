import { randomBytes } from 'node:crypto';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import type { Store } from '../store/store.js';
import { CONTRACT_COLUMNS, SEVERITIES, type Detection, type Severity } from './catalog.js';

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
  readonly findings: readonly Finding[];
  readonly failures: readonly DetectionFailure[];
}

interface ContractRow {
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
}

/** Runs one detection's SQL over `events` inside the window; rows come back in the contract's columns. */
export async function evaluate(store: Store, detection: Detection, options: DetectOptions = {}): Promise<Finding[]> {
  const rows = await store.all<ContractRow & Record<string, unknown>>(
    `select ${CONTRACT_COLUMNS.join(', ')}
     from (${detection.sql}) as d
     where ($since::timestamptz is null or eventtime >= $since::timestamptz)
       and ($until::timestamptz is null or eventtime < $until::timestamptz)
     order by eventtime, eventid`,
    { since: options.since?.toISOString() ?? null, until: options.until?.toISOString() ?? null },
  );
  return rows.map((row) => {
    const outcome = row.outcome === 'attempt' ? 'attempt' : 'success';
    return {
      detection: detection.id,
      title: outcome === 'attempt' ? `${detection.title} (attempt)` : detection.title,
      severity: outcome === 'attempt' ? (detection.attemptSeverity ?? 'low') : detection.severity,
      outcome,
      tactics: detection.tactics,
      techniques: detection.techniques,
      eventIds: row.eventid ? [row.eventid] : [],
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

/** Whether `severity` is at least `floor`. */
export function atLeast(severity: Severity, floor: Severity | undefined): boolean {
  return floor === undefined || SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);
}

/**
 * Runs detections over the store and records the findings of this run in `findings`
 * (replacing those of earlier runs), sorted by event time.
 */
export async function runDetections(store: Store, detections: readonly Detection[], options: DetectOptions = {}): Promise<DetectResult> {
  const runId = `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
  const findings: Finding[] = [];
  const failures: DetectionFailure[] = [];
  for (const detection of detections) {
    try {
      findings.push(...(await evaluate(store, detection, options)).filter((f) => atLeast(f.severity, options.minSeverity)));
    } catch (error) {
      failures.push({ detection: detection.id, reason: ((error as Error).message ?? String(error)).split('\n')[0]! });
    }
  }
  findings.sort((a, b) => compare(a.eventTime, b.eventTime) || compare(a.eventIds[0] ?? null, b.eventIds[0] ?? null) || compare(a.detection, b.detection));
  if (!store.readOnly) await saveFindings(store, runId, detections.length, findings, options);
  return { runId, detections: detections.length, findings, failures };
}

function compare(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

async function saveFindings(store: Store, runId: string, count: number, findings: readonly Finding[], options: DetectOptions): Promise<void> {
  await store.transaction(async () => {
    await store.run('delete from findings');
    await store.run(`insert into detect_runs values (?, now(), now(), ?, ?, ?, ?)`, [
      runId,
      JSON.stringify({ since: options.since ? isoSeconds(options.since) : null, until: options.until ? isoSeconds(options.until) : null, minSeverity: options.minSeverity ?? null }),
      toolVersion(),
      count,
      findings.length,
    ]);
    for (const f of findings) {
      await store.run(
        `insert into findings values ($run, $detection, $title, $severity, $outcome, $tactics, $techniques, $events, $time::timestamptz, $name, $actor, $key, $ip, $account, $region, $resource, $summary)`,
        {
          run: runId,
          detection: f.detection,
          title: f.title,
          severity: f.severity,
          outcome: f.outcome,
          tactics: listValue([...f.tactics]),
          techniques: listValue([...f.techniques]),
          events: listValue([...f.eventIds]),
          time: f.eventTime,
          name: f.eventName,
          actor: f.actor,
          key: f.accessKeyId,
          ip: f.sourceIp,
          account: f.account,
          region: f.region,
          resource: f.resource,
          summary: f.summary,
        },
        { tactics: LIST(VARCHAR), techniques: LIST(VARCHAR), events: LIST(VARCHAR) },
      );
    }
  });
}
