import { BlockList, isIP } from 'node:net';
import { LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { storeCoverage } from './coverage.js';
import type { EventFilter, EventRow, EvidenceSource, RegionFirstSeen } from './source.js';

/** ISO-8601 UTC with seconds, as every output writes times. */
export const ISO_TIME = `strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ')`;

/** The local store as an evidence source. */
export function duckdbSource(store: Store): EvidenceSource {
  return {
    name: 'duckdb',
    fetchEvents: (filter) => fetchEvents(store, filter),
    regionFirstSeen: (accounts) => regionFirstSeen(store, accounts),
    coverage: (window) => storeCoverage(store, window),
  };
}

/** A WHERE clause with its parameters. */
interface Where {
  readonly sql: string;
  readonly params: Record<string, DuckDBValue>;
  readonly types: Record<string, DuckDBType>;
}

/**
 * Builds the WHERE clause of a filter. Every value is a parameter; CIDR blocks are resolved
 * to the addresses the store holds first, since DuckDB has no offline inet type.
 */
export async function whereOf(store: Store, filter: EventFilter): Promise<Where> {
  const clauses: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  const list = (name: string, values: readonly string[]) => {
    params[name] = listValue([...values]);
    types[name] = LIST(VARCHAR);
    return `$${name}`;
  };
  if (filter.keys?.length) clauses.push(`list_contains(${list('keys', filter.keys)}, access_key_id)`);
  if (filter.eventNames?.length) clauses.push(`list_contains(${list('names', filter.eventNames)}, eventname)`);
  if (filter.accounts?.length) clauses.push(`list_contains(${list('accounts', filter.accounts)}, recipientaccountid)`);
  if (filter.regions?.length) clauses.push(`list_contains(${list('regions', filter.regions)}, awsregion)`);
  if (filter.since) {
    params['since'] = filter.since.toISOString();
    clauses.push(`eventtime >= $since::timestamptz`);
  }
  if (filter.until) {
    params['until'] = filter.until.toISOString();
    clauses.push(`eventtime < $until::timestamptz`);
  }
  if (filter.principals?.length) {
    const p = list('principals', filter.principals);
    // An ARN, a user name, or a role name (its sessions' ARNs and the session issuer).
    clauses.push(`(list_contains(${p}, principal_arn) or list_contains(${p}, session_issuer_arn) or list_contains(${p}, user_name)
      or (useridentity_type = 'AssumedRole' and list_contains(${p}, split_part(principal_arn, '/', 2))))`);
  }
  if (filter.sessions?.length) {
    const s = list('sessions', filter.sessions);
    clauses.push(`(list_contains(${s}, access_key_id)
      or (useridentity_type in ('AssumedRole', 'FederatedUser') and list_contains(${s}, split_part(principal_arn, '/', -1))))`);
  }
  if (filter.ips?.length) {
    const addresses = await resolveAddresses(store, filter.ips, clauses, params, types);
    clauses.push(`list_contains(${list('ips', addresses)}, sourceipaddress)`);
  }
  return { sql: clauses.length ? clauses.join('\n  and ') : 'true', params, types };
}

/** Exact addresses stay as they are; CIDR blocks become the matching addresses seen in the store. */
async function resolveAddresses(
  store: Store,
  ips: readonly string[],
  clauses: readonly string[],
  params: Record<string, DuckDBValue>,
  types: Record<string, DuckDBType>,
): Promise<string[]> {
  const exact = ips.filter((ip) => !ip.includes('/'));
  const blocks = ips.filter((ip) => ip.includes('/'));
  if (blocks.length === 0) return exact;
  const list = new BlockList();
  for (const block of blocks) {
    const [prefix, bits] = block.split('/');
    const family = isIP(prefix ?? '');
    const length = Number(bits);
    if (!family || !Number.isInteger(length) || length < 0 || length > (family === 4 ? 32 : 128)) {
      throw new UsageError(`--ip ${block} is not an address or CIDR block; give e.g. 203.0.113.7 or 203.0.113.0/24`);
    }
    list.addSubnet(prefix!, length, family === 4 ? 'ipv4' : 'ipv6');
  }
  const where = clauses.length ? clauses.join(' and ') : 'true';
  const seen = await store.all<{ ip: string }>(`select distinct sourceipaddress as ip from events where ${where} and sourceipaddress is not null`, params, types);
  const inside = seen.map((r) => r.ip).filter((ip) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  });
  return [...new Set([...exact, ...inside])];
}

async function fetchEvents(store: Store, filter: EventFilter): Promise<EventRow[]> {
  const where = await whereOf(store, filter);
  const rows = await store.all<Record<string, string | null>>(
    `select eventid, ${ISO_TIME} as eventtime, eventname, eventsource, access_key_id, principal_arn, useridentity_type,
            user_name, session_issuer_arn, json_extract_string(record, '$.userIdentity.accountId') as principal_account,
            sourceipaddress, useragent, awsregion, recipientaccountid, errorcode,
            json_extract_string(record, '$.errorMessage') as errormessage,
            json_extract(record, '$.requestParameters')::varchar as requestparameters,
            json_extract(record, '$.responseElements')::varchar as responseelements,
            json_extract(record, '$.additionalEventData')::varchar as additionaleventdata,
            sharedeventid, eventkey
     from events
     where ${where.sql}
     order by eventtime, eventkey
     ${filter.limit !== undefined ? `limit ${Math.max(0, Math.floor(filter.limit))}` : ''}`,
    where.params,
    where.types,
  );
  return rows.map((r) => ({
    eventId: r['eventid'] ?? r['eventkey']!,
    eventTime: r['eventtime']!,
    eventName: r['eventname'] ?? '',
    eventSource: r['eventsource'] ?? '',
    accessKeyId: r['access_key_id'] ?? null,
    principalArn: r['principal_arn'] ?? null,
    identityType: r['useridentity_type'] ?? null,
    userName: r['user_name'] ?? null,
    sessionIssuerArn: r['session_issuer_arn'] ?? null,
    principalAccount: r['principal_account'] ?? null,
    sourceIp: r['sourceipaddress'] ?? null,
    userAgent: r['useragent'] ?? null,
    region: r['awsregion'] ?? null,
    account: r['recipientaccountid'] ?? null,
    errorCode: r['errorcode'] ?? null,
    errorMessage: r['errormessage'] ?? null,
    requestParameters: nullIfJsonNull(r['requestparameters']),
    responseElements: nullIfJsonNull(r['responseelements']),
    additionalEventData: nullIfJsonNull(r['additionaleventdata']),
    sharedEventId: r['sharedeventid'] ?? null,
  }));
}

function nullIfJsonNull(text: string | null | undefined): string | null {
  return text === undefined || text === null || text === 'null' ? null : text;
}

async function regionFirstSeen(store: Store, accounts: readonly string[]): Promise<RegionFirstSeen[]> {
  if (accounts.length === 0) return [];
  return store.all<{ account: string; region: string; first: string }>(
    `select recipientaccountid as account, awsregion as region, strftime(min(eventtime), '%Y-%m-%dT%H:%M:%SZ') as first
     from events where list_contains($accounts, recipientaccountid) and awsregion is not null
     group by all order by all`,
    { accounts: listValue([...accounts]) },
    { accounts: LIST(VARCHAR) },
  ) as Promise<RegionFirstSeen[]>;
}
