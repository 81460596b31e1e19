import { LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { Store } from '../store/store.js';
import { overlaps, pairLoggingGaps, type LoggingRow } from './gaps.js';
import type { Count, Coverage, CoverageGap } from './types.js';

/** The window a coverage statement is about. */
export interface CoverageWindow {
  readonly since?: Date;
  readonly until?: Date;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
}

/** At most this many gaps of one kind are listed; the rest are counted in one line. */
const MAX_GAPS_PER_KIND = 25;
const DAY_MS = 86_400_000;

/**
 * What the store holds for a window, and what it is missing there: logging stopped, days with
 * no events for an account and region that otherwise has them, and inputs that were not
 * loaded (skipped files, denied regions, failed pages).
 */
export async function storeCoverage(store: Store, window: CoverageWindow): Promise<Coverage> {
  // Days come from the summary every load keeps; a window's exact edges from the events themselves.
  const daysWhere = summaryWhere(window);
  const days = await store.all<{ account: string | null; region: string | null; day: string; n: bigint; first: string; last: string }>(
    `select account, region, strftime(day, '%Y-%m-%d') as day, sum(events)::bigint as n,
            strftime(min(first_event), '%Y-%m-%dT%H:%M:%SZ') as first, strftime(max(last_event), '%Y-%m-%dT%H:%M:%SZ') as last
     from event_days where ${daysWhere.sql} group by all order by all`,
    daysWhere.params,
    daysWhere.types,
  );
  let span = { first: min(days.map((d) => d.first)), last: max(days.map((d) => d.last)), events: days.reduce((sum, d) => sum + Number(d.n), 0) };
  if (window.since || window.until) {
    const { sql: where, params, types } = windowWhere(window);
    const [exact] = await store.all<{ first: string | null; last: string | null; n: bigint }>(
      `select strftime(min(eventtime), '%Y-%m-%dT%H:%M:%SZ') as first, strftime(max(eventtime), '%Y-%m-%dT%H:%M:%SZ') as last, count(*)::bigint as n
       from events where ${where}`,
      params,
      types,
    );
    span = { first: exact?.first ?? null, last: exact?.last ?? null, events: Number(exact?.n ?? 0) };
  }
  const sources = await store.all<{ name: string; count: number }>(
    `select source as name, coalesce(sum(loaded), 0)::bigint as count from inputs where status = 'loaded' group by source order by source`,
  );
  const gaps = [
    ...(await loggingGaps(store, window)),
    ...noEventDays(days),
    ...(await inputGaps(store, window)),
    ...(await recordGaps(store, window)),
    ...(await verifyGaps(store, window)),
  ];
  return {
    from: span.first,
    to: span.last,
    accounts: unique(days.map((d) => d.account)),
    regions: unique(days.map((d) => d.region)),
    events: span.events,
    sources: sources.map((s): Count => ({ name: s.name, count: Number(s.count) })),
    gaps,
  };
}

function min(values: readonly string[]): string | null {
  return values.length ? values.reduce((a, b) => (b < a ? b : a)) : null;
}

function max(values: readonly string[]): string | null {
  return values.length ? values.reduce((a, b) => (b > a ? b : a)) : null;
}

type Sql = { sql: string; params: Record<string, DuckDBValue>; types: Record<string, DuckDBType> };

/** The window over the events themselves. */
function windowWhere(window: CoverageWindow): Sql {
  return rangeWhere(window, { start: 'eventtime', end: 'eventtime', account: 'recipientaccountid', region: 'awsregion' });
}

/** The window over the day summary: whole days that overlap it. */
function summaryWhere(window: CoverageWindow): Sql {
  return rangeWhere(window, { start: 'last_event', end: 'first_event', account: 'account', region: 'region' });
}

/** Rows whose `start` column is at or after `since`, whose `end` column is before `until`, in the accounts and regions. */
function rangeWhere(window: CoverageWindow, columns: { start: string; end: string; account: string; region: string }): Sql {
  const clauses: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  if (window.since) {
    params['since'] = window.since.toISOString();
    clauses.push(`${columns.start} >= $since::timestamptz`);
  }
  if (window.until) {
    params['until'] = window.until.toISOString();
    clauses.push(`${columns.end} < $until::timestamptz`);
  }
  if (window.accounts?.length) {
    params['accounts'] = listValue([...window.accounts]);
    types['accounts'] = LIST(VARCHAR);
    clauses.push(`list_contains($accounts, ${columns.account})`);
  }
  if (window.regions?.length) {
    params['regions'] = listValue([...window.regions]);
    types['regions'] = LIST(VARCHAR);
    clauses.push(`list_contains($regions, ${columns.region})`);
  }
  return { sql: clauses.length ? clauses.join(' and ') : 'true', params, types };
}

/** Spans in which a trail was stopped or deleted, from the management events themselves. */
async function loggingGaps(store: Store, window: CoverageWindow): Promise<CoverageGap[]> {
  const rows = await store.all<LoggingRow & Record<string, unknown>>(
    `select strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ') as t, eventname as name,
            json_extract_string(record, '$.requestParameters.name') as trail, recipientaccountid as account, awsregion as region
     from events
     where list_contains(['StopLogging', 'StartLogging', 'DeleteTrail'], eventname) and errorcode is null
     order by eventtime, eventkey`,
  );
  const gaps = pairLoggingGaps(rows, window);
  // A gap is one trail's. Events of the same account and region recorded after the stop come
  // from another trail (or a multi-region one): for coverage, the gap ends at the first of them.
  return Promise.all(
    gaps.map(async (gap) => {
      if (!gap.from || !gap.account || !gap.region) return gap;
      const next = await store.one<{ t: string | null }>(
        `select strftime(min(eventtime), '%Y-%m-%dT%H:%M:%SZ') as t from events
         where recipientaccountid = ? and awsregion = ? and eventtime > ?::timestamptz
           and (?::timestamptz is null or eventtime < ?::timestamptz)
           and not (eventsource = 'cloudtrail.amazonaws.com' and list_contains(['StopLogging', 'StartLogging', 'DeleteTrail'], eventname))`,
        [gap.account, gap.region, gap.from, gap.to, gap.to],
      );
      if (!next?.t) return gap;
      return { ...gap, to: next.t, detail: `${gap.detail}; events of this account and region were still recorded from ${next.t} (another trail delivers them), so coverage resumes there` };
    }),
  );
}

/** Days without a single event for an account and region that has events before and after them. */
function noEventDays(days: readonly { account: string | null; region: string | null; day: string }[]): CoverageGap[] {
  const byPlace = new Map<string, string[]>();
  for (const d of days) {
    const key = `${d.account ?? ''}|${d.region ?? ''}`;
    byPlace.set(key, [...(byPlace.get(key) ?? []), d.day]);
  }
  const gaps: CoverageGap[] = [];
  for (const [key, seen] of byPlace) {
    const [account, region] = key.split('|');
    for (let i = 1; i < seen.length; i++) {
      const missing = Math.round((Date.parse(seen[i]!) - Date.parse(seen[i - 1]!)) / DAY_MS) - 1;
      if (missing <= 0) continue;
      const from = new Date(Date.parse(seen[i - 1]!) + DAY_MS).toISOString().slice(0, 10);
      const to = new Date(Date.parse(seen[i]!) - DAY_MS).toISOString().slice(0, 10);
      gaps.push({
        kind: 'no-files',
        account: account || null,
        region: region || null,
        from: `${from}T00:00:00Z`,
        to: `${to}T23:59:59Z`,
        detail: `no events on ${missing === 1 ? from : `${missing} days, ${from} to ${to}`}`,
      });
    }
  }
  return capped(gaps, 'no-files');
}

/** Inputs that were not loaded: files skipped, pages or regions that failed. */
async function inputGaps(store: Store, window: CoverageWindow): Promise<CoverageGap[]> {
  const rows = await store.all<{ source: string; uri: string; status: string; reason: string | null; account: string | null; region: string | null }>(
    `select source, uri, status, reason, account, region from inputs
     where status in ('skipped', 'failed')
       and not exists (select 1 from inputs later where later.uri = inputs.uri and later.status in ('loaded', 'digest') and later.recorded_at > inputs.recorded_at)
     order by recorded_at, uri`,
  );
  const gaps = rows
    .filter((r) => !window.accounts?.length || !r.account || window.accounts.includes(r.account))
    .filter((r) => !window.regions?.length || !r.region || window.regions.includes(r.region))
    .map(
      (r): CoverageGap => ({
        kind: r.status === 'failed' ? 'source-failure' : 'input-skipped',
        account: r.account,
        region: r.region,
        from: null,
        to: null,
        detail: `${r.uri}: ${r.reason ?? r.status}`,
      }),
    );
  return capped(gaps, 'input-skipped');
}

/** Files whose records were partly left out (with the first reason), and files holding conflicting versions of an event. */
async function recordGaps(store: Store, window: CoverageWindow): Promise<CoverageGap[]> {
  const rows = await store.all<{ kind: string; uri: string; account: string | null; region: string | null; n: number; first: string }>(
    `select r.kind, i.uri, i.account, i.region, count(*)::bigint as n, min(r.detail) as first
     from record_issues r join inputs i using (input_id)
     group by all
     order by i.uri, r.kind`,
  );
  const gaps = rows
    .filter((r) => !window.accounts?.length || !r.account || window.accounts.includes(r.account))
    .filter((r) => !window.regions?.length || !r.region || window.regions.includes(r.region))
    .map(
      (r): CoverageGap => ({
        kind: r.kind === 'conflict' ? 'record-conflict' : 'records-rejected',
        account: r.account,
        region: r.region,
        from: null,
        to: null,
        detail:
          r.kind === 'conflict'
            ? `${r.uri}: ${r.n} event(s) share eventID and account with a record of other content; all versions are kept (record_issues)`
            : `${r.uri}: ${r.n} record(s) left out, e.g. ${r.first} (record_issues)`,
      }),
    );
  return [...capped(gaps.filter((g) => g.kind === 'records-rejected'), 'records-rejected'), ...capped(gaps.filter((g) => g.kind === 'record-conflict'), 'record-conflict')];
}

/**
 * What the latest `trailhound verify` found wrong: files or digests changed (hash or signature),
 * files missing or in no digest, digest chain breaks, silent hours.
 */
async function verifyGaps(store: Store, window: CoverageWindow): Promise<CoverageGap[]> {
  const rows = await store.all<{ status: string; kind: string; uri: string | null; account: string | null; region: string | null; from: string | null; to: string | null; detail: string | null }>(
    `select status, kind, coalesce(uri, digest_uri) as uri, account, region,
            strftime(period_start, '%Y-%m-%dT%H:%M:%SZ') as "from", strftime(period_end, '%Y-%m-%dT%H:%M:%SZ') as "to", detail
     from verify_results
     where verify_run_id = (select verify_run_id from verify_runs order by started_at desc limit 1)
       and status in ('modified', 'signature-invalid', 'missing', 'digest-gap', 'no-log-files', 'not-in-digest', 'unreadable')
     order by period_start nulls last, uri`,
  );
  const gaps = rows
    .filter((r) => !window.accounts?.length || !r.account || window.accounts.includes(r.account))
    .filter((r) => !window.regions?.length || !r.region || window.regions.includes(r.region))
    .filter((r) => overlaps(r.from, r.to, window))
    .map(
      (r): CoverageGap => ({
        kind: r.status === 'modified' || r.status === 'signature-invalid' ? 'file-modified' : r.status === 'no-log-files' ? 'no-files' : 'digest-missing',
        account: r.account,
        region: r.region,
        from: r.from,
        to: r.to,
        detail: `verify: ${r.kind} ${r.status}${r.uri ? ` ${r.uri}` : ''}${r.detail ? `: ${r.detail}` : ''}`,
      }),
    );
  return capped(gaps, 'digest-missing');
}

function capped(gaps: CoverageGap[], kind: CoverageGap['kind']): CoverageGap[] {
  if (gaps.length <= MAX_GAPS_PER_KIND) return gaps;
  const rest = gaps.length - MAX_GAPS_PER_KIND;
  return [
    ...gaps.slice(0, MAX_GAPS_PER_KIND),
    { kind, account: null, region: null, from: null, to: null, detail: `${rest} more like these (query the store for the full list)` },
  ];
}

function unique(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort();
}
