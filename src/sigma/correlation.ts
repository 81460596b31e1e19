/**
 * Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) as SQL over
 * the store: the events each referenced rule matches, grouped by the correlation's `group-by`
 * fields (aliases resolved per rule), counted over a sliding window of `timespan` that ends at
 * each matching event (not fixed clock buckets, so a burst across an hour boundary is seen).
 * A group fires once per burst: at the event that first meets the condition, citing every
 * event of its window; a later window of the same group fires again only after a quiet
 * timespan. Events without a value for a group-by field belong to no group.
 */
import { sqlString } from '../engines/dialect.js';
import { SigmaUnsupportedError } from './errors.js';
import { fieldSql } from './fields.js';

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

const OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=' } as const;
type Operator = keyof typeof OPERATORS;

/** A correlation rule's `correlation` section, checked. */
export interface CorrelationSpec {
  readonly type: CorrelationType;
  /** The referenced rules, by id or name, in the rule's order. */
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  readonly timespanSeconds: number;
  readonly timespan: string;
  /** The count criteria, all of which must hold (`gt: 100, lte: 200` is a range). */
  readonly condition: ReadonlyArray<{ readonly op: Operator; readonly value: number }>;
  /** value_count: the field whose distinct values are counted. */
  readonly field?: string;
  /** alias → rule name → the field that rule's events hold it in. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The referenced rules also run on their own. */
  readonly generate: boolean;
}

/** A rule a correlation refers to, translated: its SQL predicate over `events`, and its name. */
export interface CorrelatedRule {
  readonly id: string;
  readonly name: string | null;
  readonly where: string;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds of a Sigma timespan (`90s`, `5m`, `1h`, `2d`, `1w`). */
export function timespanSeconds(text: unknown): number {
  const m = typeof text === 'string' ? /^(\d+)([smhdw])$/.exec(text.trim()) : null;
  if (!m || Number(m[1]) === 0) throw new SigmaUnsupportedError(`timespan "${String(text)}" is not a number and a unit (s, m, h, d or w), e.g. 5m`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Reads and checks the `correlation` section of a correlation rule. */
export function readCorrelation(section: unknown): CorrelationSpec {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) throw new SigmaUnsupportedError('correlation must be a map');
  const c = section as Record<string, unknown>;
  const type = c['type'];
  if (typeof type !== 'string' || !CORRELATION_TYPES.includes(type as CorrelationType)) {
    throw new SigmaUnsupportedError(`correlation type "${String(type)}" is not run (trailhound runs ${CORRELATION_TYPES.join(', ')})`);
  }
  const strings = (key: string, required: boolean): string[] => {
    const raw = c[key] ?? (required ? undefined : []);
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v.trim() === '')) throw new SigmaUnsupportedError(`correlation ${key} must be a list of names`);
    return (list as string[]).map((v) => v.trim());
  };
  const rules = strings('rules', true);
  if (rules.length === 0) throw new SigmaUnsupportedError('correlation rules is empty');
  if ((type === 'temporal' || type === 'temporal_ordered') && rules.length < 2) throw new SigmaUnsupportedError(`a ${type} correlation needs at least two rules`);
  const groupBy = strings('group-by', false);
  const timespan = String(c['timespan'] ?? '');
  const seconds = timespanSeconds(c['timespan']);
  const aliases: Record<string, Record<string, string>> = {};
  const rawAliases = c['aliases'] ?? {};
  if (rawAliases === null || typeof rawAliases !== 'object' || Array.isArray(rawAliases)) throw new SigmaUnsupportedError('correlation aliases must map alias names to rule names and fields');
  for (const [alias, byRule] of Object.entries(rawAliases as Record<string, unknown>)) {
    if (byRule === null || typeof byRule !== 'object' || Array.isArray(byRule) || Object.values(byRule).some((f) => typeof f !== 'string')) {
      throw new SigmaUnsupportedError(`correlation alias "${alias}" must map rule names to field names`);
    }
    aliases[alias] = byRule as Record<string, string>;
  }
  const rawCondition = c['condition'];
  let condition: Array<{ op: Operator; value: number }> = [];
  let field: string | undefined;
  if (rawCondition !== undefined) {
    if (rawCondition === null || typeof rawCondition !== 'object' || Array.isArray(rawCondition)) throw new SigmaUnsupportedError('correlation condition must be a map such as {gte: 10}');
    for (const [key, value] of Object.entries(rawCondition as Record<string, unknown>)) {
      if (key === 'field') {
        if (typeof value !== 'string' || value.trim() === '') throw new SigmaUnsupportedError('correlation condition field must be a field name');
        field = value.trim();
      } else if (key in OPERATORS) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SigmaUnsupportedError(`correlation condition ${key} must be a whole number`);
        condition.push({ op: key as Operator, value });
      } else {
        throw new SigmaUnsupportedError(`correlation condition "${key}" is not one of ${Object.keys(OPERATORS).join(', ')}, field`);
      }
    }
  }
  if ((type === 'event_count' || type === 'value_count') && condition.length === 0) throw new SigmaUnsupportedError(`a ${type} correlation needs a condition (gt, gte, lt, lte or eq)`);
  if (type === 'value_count' && !field) throw new SigmaUnsupportedError('a value_count correlation needs condition.field, the field whose values are counted');
  if (type !== 'value_count' && field) throw new SigmaUnsupportedError(`condition.field belongs to value_count, not ${type}`);
  // temporal: the count of distinct rules that matched; all of them unless the condition says otherwise.
  if (type === 'temporal' && condition.length === 0) condition = [{ op: 'gte', value: rules.length }];
  if (type === 'temporal_ordered') {
    if (condition.length > 0 && !(condition.length === 1 && condition[0]!.op === 'gte' && condition[0]!.value === rules.length)) {
      throw new SigmaUnsupportedError('a temporal_ordered condition other than all its rules (gte: the number of rules) is not run');
    }
  }
  const generate = c['generate'] ?? false;
  if (typeof generate !== 'boolean') throw new SigmaUnsupportedError('correlation generate must be true or false');
  return { type: type as CorrelationType, rules, groupBy, timespanSeconds: seconds, timespan, condition, ...(field ? { field } : {}), aliases, generate };
}

/** The field a group-by name (or an alias) stands for in one rule's events. */
function fieldFor(spec: CorrelationSpec, name: string, rule: CorrelatedRule): string {
  const alias = spec.aliases[name];
  if (!alias) return name;
  const field = rule.name ? alias[rule.name] : undefined;
  if (!field) throw new SigmaUnsupportedError(`alias "${name}" names no field for rule ${rule.name ?? rule.id} (aliases are keyed by rule name)`);
  return field;
}

/**
 * The correlation as a detection's SQL (the contract columns, then `eventids`). `members`
 * are the referenced rules, in the correlation's order, already translated.
 */
export function correlationSql(spec: CorrelationSpec, members: readonly CorrelatedRule[], title: string): string {
  const groups = spec.groupBy.map((_, i) => `g${i}`);
  const partition = groups.length ? `partition by ${groups.join(', ')} ` : '';
  const span = `interval '${spec.timespanSeconds}' second`;
  const selects = members.map((rule, index) => {
    const columns = spec.groupBy.map((name, i) => `${fieldSql(fieldFor(spec, name, rule)).sql} as g${i}`);
    if (spec.field) columns.push(`${fieldSql(fieldFor(spec, spec.field, rule)).sql} as v`);
    return `  select eventkey, eventtime, eventid, eventname, coalesce(principal_arn, invoked_by, useridentity_type) as actor, access_key_id, sourceipaddress,
         recipientaccountid, awsregion, ${index} as rule_index${columns.map((c) => `,\n         ${c}`).join('')}
  from events
  where ${rule.where}`;
  });
  const grouped = `matched as (
${selects.join('\n  union all\n')}
),
grouped as (
  select * from matched${groups.length || spec.field ? ` where ${[...groups, ...(spec.field ? ['v'] : [])].map((g) => `${g} is not null`).join(' and ')}` : ''}
)`;
  const meets = spec.condition.map((c) => `n ${OPERATORS[c.op]} ${c.value}`).join(' and ');
  let windows: string;
  if (spec.type === 'temporal_ordered') {
    // A chain through the rules in order: each stage keeps, for an event of its rule, the latest
    // start (the first rule's event) of a chain that reached an earlier-or-same-time event of the
    // previous rule, and the chain's events. The latest start is the one most likely to fit the span.
    const stages: string[] = [`stage0 as (
  select *, eventtime as start, [eventid] as ids from grouped where rule_index = 0
)`];
    for (let k = 1; k < members.length; k++) {
      stages.push(`stage${k} as (
  select * exclude (start, ids, prev_start, prev_ids, kind), prev_start as start, list_append(prev_ids, eventid) as ids
  from (
    select *,
      max(start) over (${partition}order by eventtime, kind rows between unbounded preceding and 1 preceding) as prev_start,
      arg_max(ids, start) over (${partition}order by eventtime, kind rows between unbounded preceding and 1 preceding) as prev_ids
    from (
      select * exclude (start, ids), start, ids, 0 as kind from stage${k - 1}
      union all by name
      select *, null::timestamptz as start, null::varchar[] as ids, 1 as kind from grouped where rule_index = ${k}
    )
  )
  where kind = 1 and prev_start is not null and eventtime <= prev_start + ${span}
)`);
    }
    windows = `${stages.join(',\n')},
hits as (
  select *, start as first, ${members.length} as n from stage${members.length - 1}
)`;
  } else {
    // An event two of the rules match is one event.
    const counted = spec.type === 'event_count' ? 'count(distinct eventkey)' : spec.type === 'value_count' ? 'count(distinct v)' : 'count(distinct rule_index)';
    windows = `windows as (
  select *,
    ${counted} over w as n,
    min(eventtime) over w as first,
    list(distinct eventid) over w as ids
  from grouped
  window w as (${partition}order by eventtime range between ${span} preceding and current row)
),
hits as (
  select * from windows where ${meets}
)`;
  }
  const what: Record<CorrelationType, string> = {
    event_count: `' matching events'`,
    value_count: `' distinct values of ' || ${sqlString(spec.field ?? '')}`,
    temporal: `' of the rules matched'`,
    temporal_ordered: `' rules matched in order'`,
  };
  const groupText = spec.groupBy.length
    ? ` || ' for ' || ${spec.groupBy.map((name, i) => `${sqlString(`${name}=`)} || g${i}`).join(` || ', ' || `)}`
    : '';
  return `-- Sigma correlation (${spec.type}) of ${members.length} rule(s) within ${spec.timespan}
with ${grouped},
${windows},
bursts as (
  select *, lag(eventtime) over (${partition}order by eventtime, eventid) as previous from hits
)
select
  eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  ${groups.length ? `concat_ws(' ', ${groups.map((g) => `${g}::varchar`).join(', ')})` : 'recipientaccountid'} as resource,
  'success' as outcome,
  ${sqlString(`${title}: `)} || cast(n as varchar) || ${what[spec.type]} || ${sqlString(` within ${spec.timespan}`)}${groupText}
    || ', from ' || strftime(first, '%Y-%m-%dT%H:%M:%SZ') as summary,
  list_distinct(ids) as eventids
from bursts
-- once per burst: a group fires again only after a quiet timespan
where previous is null or eventtime > previous + ${span}`;
}
