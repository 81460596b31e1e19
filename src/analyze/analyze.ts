/**
 * `trailhound analyze`: what a key (address, principal, session) did, and the credential
 * lineage it left behind — session keys it minted, roles it assumed (chained, across
 * accounts), keys and users it created — each followed in turn, bounded and cycle-safe.
 */
import { UsageError } from '../core/errors.js';
import { defaultEnricher } from '../enrich/enricher.js';
import { classifyUserAgent } from '../enrich/user-agents.js';
import { BULK_READS, blastRadius } from './blast.js';
import { MINTING_CALLS, callerNodeId, derivedFrom, field, jsonObject, originOf, principalChange, type Derived, type NodeQuery } from './derive.js';
import type { EventFilter, EventRow, EvidenceSource } from './source.js';
import type { Actor, AddressFacts, AnalyzeResult, Count, CreatedPrincipal, DerivedKey, LineageEvent, LineageNode, NodeKind, Origin, PivotSpec, SessionFacts, Usability } from './types.js';

export interface AnalyzeOptions {
  /** At most this many events in `events` (default 10,000); counts are always complete. */
  readonly eventLimit?: number;
}


/**
 * The most credential hops a pivot follows. Role chains in real incidents are a few hops
 * deep; the cap keeps a forged chain of thousands of AssumeRole calls from costing a query
 * per hop and a report too deep to render.
 */
export const MAX_LINEAGE_DEPTH = 50;
/** Error codes that mean the caller was refused: probing, not failure. */
export const ACCESS_DENIED = /AccessDenied|Unauthorized|Forbidden|NotAuthorized|AuthorizationError|InvalidClientTokenId|SignatureDoesNotMatch/i;

const DEFAULT_DEPTH = 5;
/** Read-only calls whose request or response the lineage and blast radius read; other reads need neither. */
const READ_ONLY_DETAIL = [...MINTING_CALLS, 'GetSigninToken', ...BULK_READS];
const DEFAULT_EVENT_LIMIT = 10_000;
const TOP_NAMES = 10;
const SKEW_MS = 5 * 60_000;

/** A node while the lineage is being built. */
interface Building {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  readonly principalArn: string | null;
  readonly account: string | null;
  readonly depth: number;
  readonly origin: Origin | null;
  readonly query: NodeQuery & { readonly ips?: readonly string[] };
  readonly expiresAt?: string;
  readonly session?: SessionFacts;
  readonly children: Building[];
  fetched: EventRow[];
  own: EventRow[];
}

/** Checks a pivot and says what is wrong with it, in terms of the command line. */
export function validatePivot(spec: PivotSpec): void {
  const total = spec.keys.length + spec.ips.length + spec.principals.length + spec.sessions.length;
  if (total === 0) throw new UsageError('nothing to analyze: give --key, --ip, --principal or --session');
  for (const key of spec.keys) {
    if (!/^[A-Z0-9]{16,128}$/.test(key)) throw new UsageError(`--key ${key} is not an access key id (AKIA… or ASIA…, upper-case letters and digits)`);
  }
  if (spec.maxDepth !== undefined && (!Number.isInteger(spec.maxDepth) || spec.maxDepth < 0 || spec.maxDepth > MAX_LINEAGE_DEPTH)) throw new UsageError(`--depth must be a whole number from 0 to ${MAX_LINEAGE_DEPTH}`);
}

/** Investigates the pivot over the evidence source. */
export async function analyze(source: EvidenceSource, spec: PivotSpec, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  validatePivot(spec);
  const maxDepth = spec.maxDepth ?? DEFAULT_DEPTH;
  const window: EventFilter = {
    readOnlyDetail: READ_ONLY_DETAIL,
    ...(spec.since ? { since: spec.since } : {}),
    ...(spec.until ? { until: spec.until } : {}),
    ...(spec.accounts?.length ? { accounts: spec.accounts } : {}),
    ...(spec.regions?.length ? { regions: spec.regions } : {}),
  };

  const roots = await traceMinting(source, rootsOf(spec), window);
  const nodes = new Map<string, Building>(roots.map((r) => [r.id, r]));
  const createdPrincipals: CreatedPrincipal[] = [];
  const seenChanges = new Set<string>();
  let level = roots;
  while (level.length > 0) {
    await fetchLevel(source, level, window);
    const next: Building[] = [];
    for (const node of level) {
      for (const event of node.fetched) {
        const change = principalChange(event, node.id);
        if (change && !seenChanges.has(event.eventId)) {
          seenChanges.add(event.eventId);
          createdPrincipals.push(change);
        }
        if (node.depth >= maxDepth) continue;
        for (const derived of derivedFrom(event)) {
          if (nodes.has(derived.id)) continue;
          const child = childOf(derived, node, event);
          nodes.set(child.id, child);
          node.children.push(child);
          next.push(child);
        }
      }
    }
    level = next;
  }

  attribute([...nodes.values()]);
  const all = [...nodes.values()];
  const allEvents = all.flatMap((n) => n.own.map((e) => ({ event: e, node: n }))).sort((a, b) => byTime(a.event, b.event));
  const rootEvents = roots.flatMap((r) => r.own).sort(byTime);
  const lineageRows = allEvents.map((x) => x.event);

  const accountsTouched = unique(lineageRows.map((e) => e.account));
  const coverage = await source.coverage({
    ...(spec.since ? { since: spec.since } : {}),
    ...(spec.until ? { until: spec.until } : {}),
    accounts: spec.accounts?.length ? spec.accounts : accountsTouched,
    ...(spec.regions?.length ? { regions: spec.regions } : {}),
  });
  const evidenceEnd = coverage.to;
  const unmatched = roots.filter((r) => r.fetched.length === 0 && r.origin === null).map((r) => r.label);
  const usability = await usabilityOf(source, all, window, evidenceEnd);
  for (const root of roots) if (unmatched.includes(root.label)) usability.set(root.id, { status: 'unknown', reason: 'not seen in the evidence' });
  const firstSeen = rootEvents[0]?.eventTime ?? null;
  const regionFirst = await source.regionFirstSeen(unique(rootEvents.map((e) => e.account)));
  const eventLimit = options.eventLimit ?? DEFAULT_EVENT_LIMIT;

  const toNode = (b: Building): LineageNode => ({
    id: b.id,
    kind: b.kind,
    label: b.label,
    principalArn: b.principalArn,
    account: b.account,
    depth: b.depth,
    origin: b.origin,
    eventCount: b.own.length,
    errorCount: b.own.filter((e) => e.errorCode).length,
    firstSeen: b.own[0]?.eventTime ?? null,
    lastSeen: b.own.at(-1)?.eventTime ?? null,
    eventNames: counts(b.own.map((e) => e.eventName)).slice(0, TOP_NAMES),
    usability: usability.get(b.id)!,
    session: b.session ?? null,
    children: b.children.map(toNode),
  });

  const derivedKeys: DerivedKey[] = all
    .filter((b) => b.origin && (b.kind === 'access-key' || b.kind === 'session-key') && /^A[A-Z0-9]{15,}$/.test(b.label))
    .map((b) => ({
      accessKeyId: b.label,
      kind: b.kind as 'access-key' | 'session-key',
      principalArn: b.principalArn,
      origin: b.origin!,
      eventCount: b.own.length,
      usability: usability.get(b.id)!,
    }))
    .sort((a, b) => a.origin.eventTime.localeCompare(b.origin.eventTime) || a.accessKeyId.localeCompare(b.accessKeyId));

  const events: LineageEvent[] = allEvents.slice(0, eventLimit).map(({ event, node }) => ({
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventName: event.eventName,
    eventSource: event.eventSource,
    accessKeyId: event.accessKeyId,
    principalArn: event.principalArn,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    region: event.region,
    account: event.account,
    errorCode: event.errorCode,
    credential: node.id,
  }));

  return {
    pivot: {
      keys: spec.keys,
      ips: spec.ips,
      principals: spec.principals,
      sessions: spec.sessions,
      since: spec.since ? iso(spec.since) : null,
      until: spec.until ? iso(spec.until) : null,
      accounts: spec.accounts ?? [],
      regions: spec.regions ?? [],
    },
    firstSeen,
    lastSeen: rootEvents.at(-1)?.eventTime ?? null,
    eventCount: rootEvents.length,
    errorCount: rootEvents.filter((e) => e.errorCode).length,
    accessDeniedCount: rootEvents.filter((e) => e.errorCode && ACCESS_DENIED.test(e.errorCode)).length,
    services: counts(rootEvents.map((e) => e.eventSource)),
    eventNames: counts(rootEvents.map((e) => e.eventName)).map((c) => ({
      ...c,
      errors: rootEvents.filter((e) => e.eventName === c.name && e.errorCode).length,
    })),
    errorCodes: counts(rootEvents.flatMap((e) => (e.errorCode ? [e.errorCode] : []))),
    ips: sightings(rootEvents, (e) => e.sourceIp).map(({ value, ...s }) => ({ ip: value, ...s, ...addressFacts(value) })),
    userAgents: sightings(rootEvents, (e) => e.userAgent).map(({ value, ...s }) => ({ userAgent: value, ...s, class: classifyUserAgent(value) })),
    regions: sightings(rootEvents, (e) => e.region).map(({ value, ...s }) => ({
      region: value,
      ...s,
      newForAccount: firstSeen !== null && isNewRegion(value, rootEvents, regionFirst, firstSeen),
    })),
    accounts: counts(rootEvents.flatMap((e) => (e.account ? [e.account] : []))),
    actors: actorsOf(rootEvents),
    unmatched: roots.filter((r) => unmatched.includes(r.label)).map(pivotName),
    lineage: roots.map(toNode),
    derivedKeys,
    createdPrincipals: createdPrincipals.sort((a, b) => a.origin.eventTime.localeCompare(b.origin.eventTime) || a.origin.eventId.localeCompare(b.origin.eventId)),
    blastRadius: blastRadius(lineageRows),
    coverage,
    events,
    eventsTruncated: allEvents.length > events.length,
  };
}

function rootsOf(spec: PivotSpec): Building[] {
  const root = (id: string, kind: NodeKind, label: string, query: Building['query']): Building => ({
    id, kind, label, principalArn: null, account: null, depth: 0, origin: null, query, children: [], fetched: [], own: [],
  });
  return [
    ...spec.keys.map((k) => root(k.startsWith('ASIA') ? `session:${k}` : `key:${k}`, k.startsWith('ASIA') ? 'session-key' : 'access-key', k, { keys: [k] })),
    ...spec.ips.map((ip) => root(`ip:${ip}`, 'ip', ip, { ips: [ip] })),
    ...spec.principals.map((p) => root(`principal:${p}`, 'principal', p, { principals: [p] })),
    ...spec.sessions.map((s) =>
      /^ASIA[A-Z0-9]+$/.test(s) ? root(`session:${s}`, 'session-key', s, { keys: [s] }) : root(`rolesession:${s}`, 'principal', `session ${s}`, { sessions: [s] }),
    ),
  ];
}

/** How a root reads in a message: `key AKIA…`, `ip 203.0.113.7`, `principal alice`, `session x1`. */
function pivotName(root: Building): string {
  if (root.kind === 'access-key' || (root.kind === 'session-key' && root.id.startsWith('session:'))) return `key ${root.label}`;
  if (root.kind === 'ip') return `ip ${root.label}`;
  if (root.id.startsWith('rolesession:')) return root.label;
  return `principal ${root.label}`;
}

/**
 * Gives each session key given as a pivot the STS call that minted it, wherever it is in the
 * evidence (also before the window): its role, session name, expiry and invoker, which may be
 * a user, another session or a service such as lambda.amazonaws.com.
 */
async function traceMinting(source: EvidenceSource, roots: readonly Building[], window: EventFilter): Promise<Building[]> {
  const sessionKeys = roots.filter((r) => r.kind === 'session-key' && r.query.keys).map((r) => r.label);
  if (sessionKeys.length === 0) return [...roots];
  const minting = await source.fetchEvents({
    mintedKeys: sessionKeys,
    readOnlyDetail: READ_ONLY_DETAIL,
    ...(window.accounts ? { accounts: window.accounts } : {}),
  });
  return roots.map((root) => {
    if (root.kind !== 'session-key') return root;
    for (const event of minting) {
      const derived = derivedFrom(event).find((d) => d.id === root.id);
      if (!derived) continue;
      return {
        ...root,
        principalArn: derived.principalArn,
        account: derived.account,
        origin: originOf(event, callerNodeId(event)),
        ...(derived.expiresAt ? { expiresAt: derived.expiresAt } : {}),
        ...(derived.session ? { session: derived.session } : {}),
      };
    }
    return root;
  });
}

/** The keys and principals behind some events, most active first. */
function actorsOf(events: readonly EventRow[]): Actor[] {
  const map = new Map<string, { accessKeyId: string | null; principalArn: string | null; identityType: string | null; count: number; first: string; last: string }>();
  for (const e of events) {
    const id = `${e.accessKeyId ?? ''}\u0000${e.principalArn ?? e.userName ?? ''}`;
    const seen = map.get(id);
    if (!seen) map.set(id, { accessKeyId: e.accessKeyId, principalArn: e.principalArn ?? e.userName, identityType: e.identityType, count: 1, first: e.eventTime, last: e.eventTime });
    else {
      seen.count++;
      if (e.eventTime < seen.first) seen.first = e.eventTime;
      if (e.eventTime > seen.last) seen.last = e.eventTime;
    }
  }
  return [...map.values()].sort((a, b) => b.count - a.count || a.first.localeCompare(b.first) || (a.accessKeyId ?? '').localeCompare(b.accessKeyId ?? ''));
}

function childOf(derived: Derived, parent: Building, event: EventRow): Building {
  return {
    id: derived.id,
    kind: derived.kind,
    label: derived.label,
    principalArn: derived.principalArn,
    account: derived.account,
    depth: parent.depth + 1,
    origin: originOf(event, parent.id),
    // A credential cannot act before it exists; the margin allows for clock skew between services.
    query: { after: new Date(Date.parse(event.eventTime) - SKEW_MS).toISOString(), ...derived.query },
    ...(derived.expiresAt ? { expiresAt: derived.expiresAt } : {}),
    ...(derived.session ? { session: derived.session } : {}),
    children: [],
    fetched: [],
    own: [],
  };
}

/** Fetches the events of one level: the keys of all its key nodes in one query, the others one by one. */
async function fetchLevel(source: EvidenceSource, level: readonly Building[], window: EventFilter): Promise<void> {
  const keyNodes = level.filter((n) => n.query.keys && !n.query.principals && !n.query.sessions && !n.query.ips);
  const keys = [...new Set(keyNodes.flatMap((n) => n.query.keys!))];
  if (keys.length > 0) {
    const after = earliest(keyNodes.map((n) => n.query.after));
    const rows = await source.fetchEvents({ ...window, keys, ...sinceOf(window, after) });
    for (const node of keyNodes) {
      const mine = new Set(node.query.keys);
      node.fetched = rows.filter((e) => e.accessKeyId !== null && mine.has(e.accessKeyId));
    }
  }
  for (const node of level.filter((n) => !keyNodes.includes(n))) {
    const q = node.query;
    const rows = await source.fetchEvents({
      ...window,
      ...(q.principals ? { principals: q.principals } : {}),
      ...(q.sessions ? { sessions: q.sessions } : {}),
      ...(q.ips ? { ips: q.ips } : {}),
      ...sinceOf(window, q.after),
    });
    node.fetched = rows.filter((e) => !q.principalAccount || (e.principalAccount ?? e.account) === q.principalAccount);
  }
}

/** The earliest of some times, or undefined when any is unbounded. */
function earliest(times: readonly (string | undefined)[]): string | undefined {
  if (times.length === 0 || times.some((t) => t === undefined)) return undefined;
  return (times as string[]).reduce((a, b) => (b < a ? b : a));
}

/** A later `since` than the window's, when a node cannot have acted before `after`. */
function sinceOf(window: EventFilter, after: string | undefined): { since?: Date } {
  return after && (!window.since || Date.parse(after) > window.since.getTime()) ? { since: new Date(after) } : {};
}

/**
 * Gives each event to exactly one node: the key or session node whose key made it, or else
 * the first node (breadth first) that found it.
 */
function attribute(nodes: readonly Building[]): void {
  const byKey = new Map<string, Building>();
  for (const node of nodes) if ((node.kind === 'access-key' || node.kind === 'session-key') && node.query.keys) byKey.set(node.query.keys[0]!, node);
  const taken = new Set<string>();
  const ordered = [...nodes].sort((a, b) => a.depth - b.depth);
  for (const node of ordered) {
    node.own = [];
  }
  for (const node of ordered) {
    for (const event of node.fetched) {
      if (taken.has(event.eventId)) continue;
      const owner = (event.accessKeyId && byKey.get(event.accessKeyId)) || node;
      taken.add(event.eventId);
      owner.own.push(event);
    }
  }
  for (const node of nodes) node.own.sort(byTime);
}

/** Whether the attacker may still hold each credential, from the evidence alone. */
async function usabilityOf(source: EvidenceSource, nodes: readonly Building[], window: EventFilter, evidenceEnd: string | null): Promise<Map<string, Usability>> {
  const result = new Map<string, Usability>();
  const accessKeys = nodes.filter((n) => n.kind === 'access-key');
  const principals = nodes.filter((n) => n.kind === 'user' || n.kind === 'role');
  // Deactivation or deletion counts whenever it happened in the evidence, also after the window.
  const revocations =
    accessKeys.length + principals.length > 0
      ? await source.fetchEvents({
          eventNames: ['UpdateAccessKey', 'DeleteAccessKey', 'DeleteUser', 'DeleteLoginProfile', 'DeleteRole'],
          ...(window.accounts ? { accounts: window.accounts } : {}),
        })
      : [];
  const successful = revocations.filter((e) => !e.errorCode);
  const end = evidenceEnd ? `the evidence ends ${evidenceEnd}` : 'the evidence';
  for (const node of nodes) {
    switch (node.kind) {
      case 'access-key': {
        const last = successful.filter((e) => (e.eventName === 'UpdateAccessKey' || e.eventName === 'DeleteAccessKey') && field(jsonObject(e.requestParameters), 'accessKeyId') === node.label).at(-1);
        if (!last) result.set(node.id, { status: 'usable', reason: 'never deactivated or deleted in the evidence' });
        else if (last.eventName === 'DeleteAccessKey') result.set(node.id, { status: 'deleted', reason: `deleted ${last.eventTime} (event ${last.eventId})` });
        else if (/inactive/i.test(field(jsonObject(last.requestParameters), 'status') ?? '')) result.set(node.id, { status: 'deactivated', reason: `deactivated ${last.eventTime} (event ${last.eventId})` });
        else result.set(node.id, { status: 'usable', reason: `re-activated ${last.eventTime} (event ${last.eventId})` });
        break;
      }
      case 'session-key':
      case 'console-session': {
        if (!node.expiresAt) {
          result.set(node.id, { status: 'unknown', reason: 'expiry not in the record; revoke with an aws:TokenIssueTime deny policy' });
        } else if (evidenceEnd && Date.parse(node.expiresAt) <= Date.parse(evidenceEnd)) {
          result.set(node.id, { status: 'expired', reason: `expired ${node.expiresAt}, before ${end}`, expiresAt: node.expiresAt });
        } else {
          result.set(node.id, {
            status: 'usable',
            reason: `expires ${node.expiresAt}, after ${end}; deactivating the parent key does not revoke it`,
            expiresAt: node.expiresAt,
          });
        }
        break;
      }
      case 'user':
      case 'role': {
        const name = node.kind === 'user' ? node.label.split('/').pop() : node.label.split('/').pop();
        const removal = successful.filter((e) => (node.kind === 'user' ? e.eventName === 'DeleteUser' || e.eventName === 'DeleteLoginProfile' : e.eventName === 'DeleteRole'))
          .filter((e) => field(jsonObject(e.requestParameters), node.kind === 'user' ? 'userName' : 'roleName') === name)
          .at(-1);
        if (!removal) result.set(node.id, { status: 'usable', reason: `${node.kind} not deleted in the evidence` });
        else if (removal.eventName === 'DeleteLoginProfile') result.set(node.id, { status: 'usable', reason: `console password removed ${removal.eventTime}; the user and its keys remain` });
        else result.set(node.id, { status: 'deleted', reason: `deleted ${removal.eventTime} (event ${removal.eventId})` });
        break;
      }
      default:
        result.set(node.id, {
          status: 'unknown',
          reason:
            node.kind === 'ip'
              ? 'an address, not a credential'
              : node.children.length > 0
                ? 'a principal, see the credentials under it'
                : 'a principal; it minted or created no credential in the evidence',
        });
    }
  }
  return result;
}

function isNewRegion(region: string, events: readonly EventRow[], firstSeen: readonly { account: string; region: string; first: string }[], pivotFirst: string): boolean {
  const accounts = unique(events.filter((e) => e.region === region).map((e) => e.account));
  return accounts.every((account) => {
    const first = firstSeen.find((f) => f.account === account && f.region === region)?.first;
    return first === undefined || first >= pivotFirst;
  });
}

function byTime(a: EventRow, b: EventRow): number {
  return a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId);
}

/** Values with their counts, most frequent first. */
function counts(values: readonly string[]): Count[] {
  const map = new Map<string, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return [...map].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** Each value with its count and first and last sighting, most frequent first. */
function sightings(events: readonly EventRow[], pick: (e: EventRow) => string | null): { value: string; count: number; first: string; last: string }[] {
  const map = new Map<string, { value: string; count: number; first: string; last: string }>();
  for (const e of events) {
    const value = pick(e);
    if (value === null) continue;
    const s = map.get(value);
    if (!s) map.set(value, { value, count: 1, first: e.eventTime, last: e.eventTime });
    else {
      s.count++;
      if (e.eventTime < s.first) s.first = e.eventTime;
      if (e.eventTime > s.last) s.last = e.eventTime;
    }
  }
  return [...map.values()].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

function unique(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort();
}

function iso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/** The offline enrichment of one source address, as analyze reports it. */
function addressFacts(address: string): AddressFacts {
  const { kind, asn, asOrg, country, city, awsOwned, hosting } = defaultEnricher().lookup(address);
  return { kind, asn, asOrg, country, city, awsOwned, hosting };
}
