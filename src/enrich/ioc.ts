import { readFileSync } from 'node:fs';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import ipaddr from 'ipaddr.js';
import type { Detection } from '../detect/catalog.js';
import type { Store } from '../store/store.js';
import { parseAddress } from './address.js';

/** The kinds of indicator `detect --ioc` matches, and the event field each is compared with. */
export const IOC_KINDS = ['ip', 'cidr', 'access-key', 'arn', 'event-id', 'user-agent', 'ami'] as const;
export type IocKind = (typeof IOC_KINDS)[number];

/** One indicator of compromise, with where it came from. */
export interface Indicator {
  readonly kind: IocKind;
  readonly value: string;
  readonly source: string;
  /** Line number in the file (or the STIX indicator's position). */
  readonly line: number;
  readonly description: string | null;
}

/** A line of an IOC file that could not be read as an indicator. */
export interface IocProblem {
  readonly source: string;
  readonly line: number;
  readonly reason: string;
}

export interface IocList {
  readonly indicators: Indicator[];
  readonly problems: IocProblem[];
}

const KIND_ALIASES: Record<string, IocKind> = {
  ip: 'ip', ipv4: 'ip', ipv6: 'ip', address: 'ip', 'ip-address': 'ip',
  cidr: 'cidr', network: 'cidr', range: 'cidr',
  key: 'access-key', 'access-key': 'access-key', 'access-key-id': 'access-key', accesskeyid: 'access-key',
  arn: 'arn', principal: 'arn',
  'event-id': 'event-id', eventid: 'event-id', event: 'event-id',
  'user-agent': 'user-agent', useragent: 'user-agent', ua: 'user-agent',
  ami: 'ami', image: 'ami', 'image-id': 'ami', imageid: 'ami',
};

const ACCESS_KEY = /^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,124}$/;
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{0,12}:.+$/;
/** An AMI id: `ami-` and 8 or 17 hexadecimal digits. */
const AMI = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** Checks a value against its kind and returns it in the form events hold it, or a reason it is not one. */
function checked(kind: IocKind, raw: string): { value: string } | { reason: string } {
  const value = raw.trim();
  if (!value) return { reason: 'empty value' };
  switch (kind) {
    case 'ip': {
      const address = parseAddress(value);
      return address ? { value: address.toString() } : { reason: `"${value}" is not an IPv4 or IPv6 address` };
    }
    case 'cidr': {
      if (!ipaddr.isValidCIDR(value)) return { reason: `"${value}" is not a CIDR block (address/prefix)` };
      const [net, bits] = ipaddr.parseCIDR(value);
      return { value: `${net.toString()}/${bits}` };
    }
    case 'access-key':
      return ACCESS_KEY.test(value) ? { value } : { reason: `"${value}" is not an access key id (AKIA…/ASIA…)` };
    case 'arn':
      return ARN.test(value) ? { value } : { reason: `"${value}" is not an ARN` };
    case 'event-id':
      return EVENT_ID.test(value) ? { value: value.toLowerCase() } : { reason: `"${value}" is not an event id (a UUID)` };
    case 'user-agent':
      return value.length >= 3 ? { value } : { reason: 'a user-agent substring needs at least 3 characters' };
    case 'ami':
      return AMI.test(value.toLowerCase()) ? { value: value.toLowerCase() } : { reason: `"${value}" is not an AMI id (ami- and 8 or 17 hexadecimal digits)` };
  }
}

/** The kind a bare value has by its shape, or null when the shape says nothing (a user agent must be typed). */
function kindOf(value: string): IocKind | null {
  if (value.includes('/') && ipaddr.isValidCIDR(value)) return 'cidr';
  if (parseAddress(value)) return 'ip';
  if (ACCESS_KEY.test(value)) return 'access-key';
  if (value.startsWith('arn:')) return 'arn';
  if (EVENT_ID.test(value)) return 'event-id';
  if (AMI.test(value.toLowerCase())) return 'ami';
  return null;
}

/** Splits one CSV line (RFC 4180 quotes). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') field += line[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** Indicators of a STIX 2.1 bundle: address comparisons in the patterns of its indicators. */
function stixIndicators(doc: Record<string, unknown>, source: string, out: IocList): void {
  const objects = Array.isArray(doc['objects']) ? (doc['objects'] as Record<string, unknown>[]) : [];
  objects.forEach((o, index) => {
    if (o?.['type'] !== 'indicator') return;
    const pattern = typeof o['pattern'] === 'string' ? o['pattern'] : '';
    const description = typeof o['name'] === 'string' ? o['name'] : typeof o['description'] === 'string' ? o['description'] : null;
    const comparisons = [...pattern.matchAll(/(ipv4-addr|ipv6-addr):value\s*=\s*'([^']*)'|network-traffic:(?:src|dst)_ref\.value\s*=\s*'([^']*)'/g)];
    if (comparisons.length === 0) {
      out.problems.push({ source, line: index + 1, reason: `STIX indicator ${String(o['id'] ?? index + 1)}: no ipv4-addr, ipv6-addr or network-traffic address comparison in its pattern` });
      return;
    }
    for (const m of comparisons) {
      const raw = m[2] ?? m[3] ?? '';
      const result = checked(raw.includes('/') ? 'cidr' : 'ip', raw);
      if ('reason' in result) out.problems.push({ source, line: index + 1, reason: result.reason });
      else out.indicators.push({ kind: raw.includes('/') ? 'cidr' : 'ip', value: result.value, source, line: index + 1, description });
    }
  });
}

/**
 * Reads indicators from text: one per line (the kind told by the value's shape, or a
 * `kind,value[,description]` CSV line; `#` starts a comment), or a STIX 2.1 bundle (JSON).
 * A line that is not an indicator becomes a problem with its line number; the rest loads.
 */
export function parseIocText(text: string, source: string): IocList {
  const out: IocList = { indicators: [], problems: [] };
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('{')) {
    try {
      const doc = JSON.parse(trimmed) as Record<string, unknown>;
      if (doc['type'] === 'bundle') {
        stixIndicators(doc, source, out);
        return out;
      }
      out.problems.push({ source, line: 1, reason: 'JSON that is not a STIX 2.1 bundle (type "bundle")' });
    } catch (error) {
      out.problems.push({ source, line: 1, reason: `malformed JSON (${(error as Error).message})` });
    }
    return out;
  }
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const fields = csvFields(line);
    const typed = fields.length >= 2 ? KIND_ALIASES[fields[0]!.toLowerCase()] : undefined;
    if (fields.length >= 2 && !typed && i === 0 && /^(type|kind|indicator_type)$/i.test(fields[0]!)) return; // a CSV header
    const kind = typed ?? kindOf(line);
    const raw = typed ? fields[1]! : line;
    if (!kind) {
      out.problems.push({ source, line: i + 1, reason: `cannot tell what "${line.slice(0, 80)}" is; write it as "user-agent,${line.slice(0, 40)}" (or ip, cidr, access-key, arn, event-id, ami)` });
      return;
    }
    const result = checked(kind, raw);
    if ('reason' in result) out.problems.push({ source, line: i + 1, reason: result.reason });
    else out.indicators.push({ kind, value: result.value, source, line: i + 1, description: typed ? (fields[2] || null) : null });
  });
  return out;
}

/** Reads IOC files; a file that cannot be read is a problem of its own, and the others still load. */
export function loadIocFiles(paths: readonly string[]): IocList {
  const out: IocList = { indicators: [], problems: [] };
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      out.problems.push({ source: path, line: 0, reason: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
      continue;
    }
    const one = parseIocText(text, path);
    out.indicators.push(...one.indicators);
    out.problems.push(...one.problems);
  }
  return out;
}

/**
 * Puts the indicators in temporary tables for the `ioc_match` detection: `ioc_indicators`
 * (every indicator) and `ioc_address_hits` (each distinct source address of the store that an
 * address or CIDR indicator covers, matched here with real CIDR arithmetic).
 */
export async function prepareIocTables(store: Store, indicators: readonly Indicator[]): Promise<void> {
  const label = (i: Indicator) => `${i.kind} ${i.value} (${i.source}:${i.line}${i.description ? `, ${i.description}` : ''})`;
  await store.run(
    `create or replace temp table ioc_indicators as
     select unnest($kind) as kind, unnest($value) as value, unnest($label) as label`,
    { kind: listValue(indicators.map((i) => i.kind)), value: listValue(indicators.map((i) => i.value)), label: listValue(indicators.map(label)) },
    { kind: LIST(VARCHAR), value: LIST(VARCHAR), label: LIST(VARCHAR) },
  );
  const networks = indicators
    .filter((i) => i.kind === 'ip' || i.kind === 'cidr')
    .map((i) => ({ net: i.kind === 'cidr' ? ipaddr.parseCIDR(i.value) : ([ipaddr.parse(i.value), i.value.includes(':') ? 128 : 32] as [ipaddr.IPv4 | ipaddr.IPv6, number]), label: label(i) }));
  const hits: { address: string; label: string }[] = [];
  if (networks.length > 0) {
    const addresses = (await store.all<{ a: string }>(`select distinct sourceipaddress as a from events where sourceipaddress is not null`)).map((r) => r.a);
    for (const address of addresses) {
      const parsed = parseAddress(address);
      if (!parsed) continue;
      for (const n of networks) if (n.net[0].kind() === parsed.kind() && parsed.match(n.net)) hits.push({ address, label: n.label });
    }
  }
  await store.run(
    `create or replace temp table ioc_address_hits as
     select unnest($address) as address, unnest($label) as label`,
    { address: listValue(hits.map((h) => h.address)), label: listValue(hits.map((h) => h.label)) },
    { address: LIST(VARCHAR), label: LIST(VARCHAR) },
  );
}

const IOC_SQL = `with hits as (
  select e.*, h.label
  from events e
  join ioc_address_hits h on h.address = e.sourceipaddress
  union all
  select e.*, i.label
  from events e
  join ioc_indicators i on i.kind = 'access-key' and i.value = e.access_key_id
  union all
  select e.*, i.label
  from events e
  join ioc_indicators i on i.kind = 'arn' and (i.value = e.principal_arn or i.value = e.session_issuer_arn)
  union all
  select e.*, i.label
  from events e
  join ioc_indicators i on i.kind = 'event-id' and i.value = lower(e.eventid)
  union all
  select e.*, i.label
  from events e
  join ioc_indicators i on i.kind = 'user-agent' and contains(lower(e.useragent), lower(i.value))
  union all
  -- An image named anywhere in a request or response: launched, copied, shared, registered or
  -- put in a launch template or configuration. Read only when the list names an image.
  select e.*, i.label
  from events e
  join ioc_indicators i on i.kind = 'ami'
    and contains(lower(coalesce(cast(e.requestparameters as varchar), '') || ' ' || coalesce(cast(e.responseelements as varchar), '')), '"' || i.value || '"')
  where e.eventsource in ('ec2.amazonaws.com', 'autoscaling.amazonaws.com', 'imagebuilder.amazonaws.com', 'ssm.amazonaws.com')
    and exists (select 1 from ioc_indicators where kind = 'ami')
),
grouped as (
  select
    label,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    min(eventtime) as first,
    count(distinct eventid) as calls,
    list(distinct eventid order by eventid) as eventids,
    arg_min(eventid, eventtime) as eventid,
    arg_min(eventname, eventtime) as eventname,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from hits
  group by label, actor, access_key_id, sourceipaddress
)
select
  first as eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  coalesce(access_key_id, actor) as resource,
  'success' as outcome,
  'indicator ' || label || ' matched ' || cast(calls as varchar) || ' event(s)' as summary,
  eventids
from grouped`;

/** The `ioc_match` detection over the tables {@link prepareIocTables} fills: one finding per indicator, identity and address, citing every event. */
export function iocDetection(): Detection {
  return {
    id: 'ioc_match',
    area: 'ioc',
    title: 'Indicator of compromise matched',
    description: 'An event matches an indicator given with detect --ioc: an address or CIDR block, an access key, an ARN, an event id, a user-agent substring, or an AMI id named in a request or response (a known-bad or known-vulnerable image).',
    severity: 'high',
    tactics: [],
    techniques: [],
    references: [],
    falsePositives: ['An indicator list that names shared infrastructure (a CDN, a cloud provider range).'],
    remediation: 'Treat the matching key or principal as compromised and follow what it did with analyze.',
    sql: IOC_SQL,
    tests: [],
    path: '(detect --ioc)',
    engines: ['duckdb'],
    engineNote: 'matches against indicator tables filled in the local session',
  };
}
