/**
 * The organisation's CloudTrail table on Athena as an analyze evidence source: each call is
 * one partition-constrained Trino query whose user-given values (keys, addresses, names) go
 * in as execution parameters, never into the SQL text.
 */
import { isIP } from 'node:net';
import { pairLoggingGaps } from '../analyze/gaps.js';
import { eventRowOf, type EventFilter, type EventRow, type EvidenceSource, type RegionFirstSeen } from '../analyze/source.js';
import type { Coverage, CoverageGap } from '../analyze/types.js';
import { UsageError } from '../core/errors.js';
import { ScanLimitError, type AthenaRunner } from './athena-client.js';
import { eventsRelation, type AthenaTable, type Window } from './athena-table.js';
import { sqlString } from './dialect.js';

/** ISO-8601 UTC with seconds, as the DuckDB source writes times. */
const ISO_TIME = `date_format(eventtime, '%Y-%m-%dT%H:%i:%sZ')`;

/** A WHERE clause with `?` placeholders and their values, as Athena execution parameters. */
export interface ParameterizedWhere {
  readonly sql: string;
  readonly parameters: readonly string[];
}

/**
 * An IPv4 CIDR block as the range of its addresses' numeric values.
 * Trino's `contains(ipprefix, ipaddress)` would also take IPv6, but the Athena stand-in
 * (test/engines/emulator.ts) answers the rendered SQL with DuckDB, which has neither type;
 * the numeric range over a checked dotted quad runs on both, so the own version stays.
 */
export function ipv4Range(block: string): [number, number] {
  const [prefix, bits] = block.split('/');
  const length = Number(bits);
  if (isIP(prefix ?? '') === 6) throw new UsageError(`--ip ${block}: IPv6 blocks are not supported with --engine athena; give exact IPv6 addresses`);
  if (isIP(prefix ?? '') !== 4 || !Number.isInteger(length) || length < 0 || length > 32) {
    throw new UsageError(`--ip ${block} is not an address or CIDR block; give e.g. 203.0.113.7 or 203.0.113.0/24`);
  }
  const value = prefix!.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - length);
  const low = Math.floor(value / size) * size;
  return [low, low + size - 1];
}

/** The numeric value of an IPv4 `sourceipaddress` in Trino (NULL for anything else). */
const IPV4_VALUE = `case when regexp_like(sourceipaddress, '^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$') then
      try(cast(split_part(sourceipaddress, '.', 1) as bigint) * 16777216 + cast(split_part(sourceipaddress, '.', 2) as bigint) * 65536
        + cast(split_part(sourceipaddress, '.', 3) as bigint) * 256 + cast(split_part(sourceipaddress, '.', 4) as bigint)) end`;

/** The filter's conditions over the `events` relation; the window itself is applied by the relation. */
export function athenaWhere(filter: EventFilter): ParameterizedWhere {
  const clauses: string[] = [];
  const parameters: string[] = [];
  const inList = (values: readonly string[]) => {
    parameters.push(...values.map(sqlString));
    return `(${values.map(() => '?').join(', ')})`;
  };
  if (filter.keys?.length) clauses.push(`access_key_id in ${inList(filter.keys)}`);
  if (filter.eventNames?.length) {
    // Event names are API names (letters and digits): written in, so that hundreds fit without as many parameters.
    const plain = filter.eventNames.every((n) => /^[A-Za-z0-9]{1,128}$/.test(n));
    clauses.push(`eventname in ${plain ? `(${filter.eventNames.map(sqlString).join(', ')})` : inList(filter.eventNames)}`);
  }
  if (filter.mintedKeys?.length) {
    clauses.push(`eventsource = 'sts.amazonaws.com' and json_extract_scalar(responseelements, '$.credentials.accessKeyId') in ${inList(filter.mintedKeys)}`);
  }
  if (filter.principals?.length) {
    const p = filter.principals;
    // An ARN, a user name, or a role name (its sessions' ARNs and the session issuer), as on DuckDB.
    clauses.push(`(principal_arn in ${inList(p)} or session_issuer_arn in ${inList(p)} or user_name in ${inList(p)}
      or (useridentity_type = 'AssumedRole' and split_part(principal_arn, '/', 2) in ${inList(p)}))`);
  }
  if (filter.sessions?.length) {
    const s = filter.sessions;
    clauses.push(`(access_key_id in ${inList(s)}
      or (useridentity_type in ('AssumedRole', 'FederatedUser') and regexp_extract(principal_arn, '[^/]+$') in ${inList(s)}))`);
  }
  if (filter.ips?.length) {
    const exact = filter.ips.filter((ip) => !ip.includes('/'));
    const blocks = filter.ips.filter((ip) => ip.includes('/')).map(ipv4Range);
    const any: string[] = [];
    if (exact.length) any.push(`sourceipaddress in ${inList(exact)}`);
    for (const [low, high] of blocks) {
      parameters.push(String(low), String(high));
      any.push(`(${IPV4_VALUE}) between ? and ?`);
    }
    clauses.push(`(${any.join(' or ')})`);
  }
  return { sql: clauses.length ? clauses.join('\n  and ') : 'true', parameters };
}

/** The narrower of the source's window and a call's (later start, earlier end, the lists given). */
function narrow(base: Window, filter: { since?: Date; until?: Date; accounts?: readonly string[]; regions?: readonly string[] }): Window {
  const since = [base.since, filter.since].filter((d): d is Date => d !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
  const until = [base.until, filter.until].filter((d): d is Date => d !== undefined).sort((a, b) => a.getTime() - b.getTime())[0];
  const accounts = filter.accounts?.length ? filter.accounts : base.accounts;
  const regions = filter.regions?.length ? filter.regions : base.regions;
  return { ...(since ? { since } : {}), ...(until ? { until } : {}), ...(accounts?.length ? { accounts } : {}), ...(regions?.length ? { regions } : {}) };
}

/** Options of the Athena evidence source. */
export interface AthenaSourceOptions {
  /** The investigation's window; every query is limited to it (and to its partitions). */
  readonly window: Window;
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
}

/** The CloudTrail table on Athena as an evidence source for analyze. */
export function athenaSource(runner: AthenaRunner, table: AthenaTable, options: AthenaSourceOptions): EvidenceSource {
  const warned = new Set<string>();
  const relation = (window: Window, label: string) => {
    const events = eventsRelation(table, window);
    if (!events.constraint.dateBounded) {
      const why = `${label}: the days of ${table.database}.${table.table} are not constrained (no --since, or no date partition)`;
      if (runner.settings.maxScanBytes !== undefined) throw new ScanLimitError(`refusing to query Athena under --max-scan-gb: ${why}; pass --since (and --until)`);
      if (!warned.has(label)) options.onWarning?.(`${why}; every partition will be scanned`);
      warned.add(label);
    }
    return events.sql;
  };
  const query = (sql: string, label: string, parameters: readonly string[] = []) =>
    runner.query(sql, { label, parameters, ...(options.signal ? { signal: options.signal } : {}) });

  return {
    name: 'athena',

    async fetchEvents(filter: EventFilter): Promise<EventRow[]> {
      const where = athenaWhere(filter);
      const limit = filter.limit !== undefined ? `\nlimit ${Math.max(0, Math.floor(filter.limit))}` : '';
      const sql = `-- trailhound analyze: events
with events as (
  ${relation(narrow(options.window, filter), 'analyze events')}
)
select eventid, ${ISO_TIME} as eventtime, eventname, eventsource, access_key_id, principal_arn, useridentity_type,
       user_name, session_issuer_arn, principal_account, sourceipaddress, useragent, awsregion, recipientaccountid,
       errorcode, errormessage, requestparameters, responseelements, additionaleventdata, sharedeventid
from events
where ${where.sql}
order by eventtime, eventid${limit}`;
      const result = await query(sql, 'analyze events', where.parameters);
      return result.rows.map((r) => eventRowOf(r));
    },

    async regionFirstSeen(accounts: readonly string[]): Promise<RegionFirstSeen[]> {
      if (accounts.length === 0) return [];
      const sql = `-- trailhound analyze: first activity per region
with events as (
  ${relation(narrow(options.window, { accounts }), 'analyze regions')}
)
select recipientaccountid as account, awsregion as region, date_format(min(eventtime), '%Y-%m-%dT%H:%i:%sZ') as first
from events
where awsregion is not null
group by recipientaccountid, awsregion
order by recipientaccountid, awsregion`;
      const result = await query(sql, 'analyze regions');
      return result.rows.map((r) => ({ account: r['account'] ?? '', region: r['region'] ?? '', first: r['first'] ?? '' }));
    },

    async coverage(window): Promise<Coverage> {
      const w = narrow(options.window, window);
      const sql = `-- trailhound analyze: coverage
with events as (
  ${relation(w, 'analyze coverage')}
),
summary as (
  select count(*) as events, min(eventtime) as first, max(eventtime) as last,
         json_format(cast(array_agg(distinct recipientaccountid) as json)) as accounts,
         json_format(cast(array_agg(distinct awsregion) as json)) as regions
  from events
)
select events, ${ISO_TIME.replace('eventtime', 'first')} as first, ${ISO_TIME.replace('eventtime', 'last')} as last, accounts, regions
from summary`;
      const switches = `-- trailhound analyze: logging switches
with events as (
  ${relation(narrow(options.window, {}), 'analyze coverage')}
)
select ${ISO_TIME} as t, eventname as name, json_extract_scalar(requestparameters, '$.name') as trail, recipientaccountid as account, awsregion as region
from events
where eventname in ('StopLogging', 'StartLogging', 'DeleteTrail') and errorcode is null
order by eventtime, eventid`;
      const [summary, gaps] = await Promise.all([query(sql, 'analyze coverage'), query(switches, 'analyze logging switches')]);
      const row = summary.rows[0] ?? {};
      const events = Number(row['events'] ?? 0);
      return {
        from: row['first'] ?? null,
        to: row['last'] ?? null,
        accounts: distinct(row['accounts']),
        regions: distinct(row['regions']),
        events,
        sources: events > 0 ? [{ name: 'athena', count: events }] : [],
        gaps: loggingGaps(gaps.rows, w),
      };
    },
  };
}

/** A JSON array of names from array_agg, without NULL and sorted. */
function distinct(json: string | null | undefined): string[] {
  return json ? (JSON.parse(json) as Array<string | null>).filter((v): v is string => v !== null).sort() : [];
}

/** Spans in which a trail was stopped or deleted, from StopLogging/StartLogging/DeleteTrail events. */
export function loggingGaps(rows: ReadonlyArray<Readonly<Record<string, string | null>>>, window: Window): CoverageGap[] {
  return pairLoggingGaps(
    rows.map((r) => ({ t: r['t'] ?? '', name: r['name'] ?? '', trail: r['trail'] ?? null, account: r['account'] ?? null, region: r['region'] ?? null })),
    window,
  );
}
