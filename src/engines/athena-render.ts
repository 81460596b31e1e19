/**
 * Renders a detection of queries/ as one Athena (Trino) query: the `events` relation over the
 * CloudTrail table, the sensitive-calls reference as a VALUES list, the detection itself
 * translated by the dialect layer, and the same window and order as the DuckDB runner.
 */
import type { Detection, SensitiveEvent } from '../detect/catalog.js';
import { eventNamesOf } from '../detect/runner.js';
import { eventsRelation, timestampLiteral, type AthenaTable, type Constraint, type Window } from './athena-table.js';
import { NotPortableError, splitWith, sqlString, toTrino } from './dialect.js';

/** What a detection query over Athena needs besides the detection. */
export interface RenderContext {
  readonly table: AthenaTable;
  readonly window: Window;
  /** The sensitive-calls catalog, for detections that read `sensitive_events`. */
  readonly sensitive: readonly SensitiveEvent[];
  /** The whole catalog, which decides which sensitive calls are covered. */
  readonly catalog: readonly Detection[];
}

/** A detection ready to run on Athena. */
export interface RenderedDetection {
  readonly sql: string;
  readonly constraint: Constraint;
  /** The detection returns the `eventids` list column. */
  readonly hasEventIds: boolean;
  /** The detection returns the `severity` column (a severity chosen from context). */
  readonly hasSeverity?: boolean;
}

/** Whether a detection may run on Athena (its metadata may limit it to DuckDB). */
export function runsOnAthena(detection: Detection): boolean {
  return detection.engines.includes('athena');
}

/** Whether the detection's SQL returns the optional `eventids` column after the contract columns. */
export function returnsEventIds(sql: string): boolean {
  return /\beventids\b/i.test(sql);
}

/** Whether the detection's SQL returns the optional last column `severity` (severity from context). */
export function returnsSeverity(sql: string): boolean {
  return /\bas\s+severity\s*(,|$|\bfrom\b)/im.test(sql);
}

/** The sensitive-calls catalog as a Trino VALUES relation with the columns of the DuckDB temp table. */
export function sensitiveEventsRelation(sensitive: readonly SensitiveEvent[], catalog: readonly Detection[]): string {
  const covered = new Set(catalog.flatMap((d) => eventNamesOf(d.sql)));
  const rows = sensitive.map((e) => `(${[e.source, e.name, e.tactic, e.severity, e.why].map(sqlString).join(', ')}, ${covered.has(e.name) ? 'true' : 'false'})`);
  return `select * from (values\n    ${rows.join(',\n    ')}\n  ) as t (eventsource, eventname, tactic, importance, why, covered)`;
}

/**
 * The Athena query of one detection. Throws NotPortableError when its SQL uses a construct
 * the dialect layer cannot translate.
 */
export function renderDetection(detection: Detection, ctx: RenderContext): RenderedDetection {
  if (!runsOnAthena(detection)) throw new NotPortableError(`${detection.id} runs on DuckDB only: ${detection.engineNote ?? 'see its metadata'}`);
  let translated: string;
  try {
    translated = toTrino(detection.sql);
  } catch (error) {
    if (error instanceof NotPortableError) throw new NotPortableError(`${detection.id}: ${error.message}`);
    throw error;
  }
  const { ctes, body } = splitWith(translated);
  const events = eventsRelation(ctx.table, ctx.window);
  const items = [`events as (\n  ${events.sql}\n)`];
  if (/\bsensitive_events\b/.test(detection.sql)) items.push(`sensitive_events as (\n  ${sensitiveEventsRelation(ctx.sensitive, ctx.catalog)}\n)`);
  items.push(...ctes, `trailhound_detection as (\n${body}\n)`);
  const hasEventIds = returnsEventIds(detection.sql);
  const hasSeverity = returnsSeverity(detection.sql);
  const where: string[] = [];
  if (ctx.window.since) where.push(`eventtime >= ${timestampLiteral(ctx.window.since)}`);
  if (ctx.window.until) where.push(`eventtime < ${timestampLiteral(ctx.window.until)}`);
  const sql = `-- trailhound detection ${detection.id}
with ${items.join(',\n')}
select
  to_iso8601(eventtime) as eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  resource,
  outcome,
  summary${hasEventIds ? ',\n  json_format(cast(eventids as json)) as eventids' : ''}${hasSeverity ? ',\n  severity' : ''}
from trailhound_detection${where.length ? `\nwhere ${where.join('\n  and ')}` : ''}
order by eventtime, eventid`;
  return { sql, constraint: events.constraint, hasEventIds, hasSeverity };
}
