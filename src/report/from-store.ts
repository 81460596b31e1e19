/**
 * Reads the evidence for a timeline or a remediation plan out of the store: the findings of
 * the latest `trailhound detect`, the events behind them with their provenance, and what the
 * store covers. The one module of report/ that touches DuckDB; everything after it is pure.
 */
import { LIST, VARCHAR, listValue, type DuckDBValue } from '@duckdb/node-api';
import { analyze } from '../analyze/analyze.js';
import { storeCoverage } from '../analyze/coverage.js';
import { duckdbSource } from '../analyze/duckdb-source.js';
import type { AnalyzeResult, Coverage, LineageNode } from '../analyze/types.js';
import { parseJsonFirstWins } from '../core/json.js';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { COMPLETION_EVENT_NAMES } from '../remediate/done.js';
import { buildPlan } from '../remediate/plan.js';
import type { RemediationPlan } from '../remediate/types.js';
import { buildTimeline, type TimelineEnrichment, type TimelineReport, type TimelineScope } from './timeline.js';
import { addressLabel } from '../analyze/render.js';
import { defaultEnricher } from '../enrich/enricher.js';
import { classifyUserAgent } from '../enrich/user-agents.js';
import { UsageError } from '../core/errors.js';
import { fromStored, type StoredFinding } from '../detect/alerts.js';
import { SEVERITIES, type Severity } from '../detect/catalog.js';
import { creatingChanges, nowView } from '../snapshot/join.js';
import { loadSnapshot, type StoredSnapshot } from '../snapshot/store.js';
import type { Store } from '../store/store.js';
import type { EventColumnName } from '../store/columns.js';
import { byTimeThenId, type EvidenceEvent, type Finding } from './evidence.js';

/** Which findings to read. */
export interface FindingFilter {
  readonly since?: Date;
  readonly until?: Date;
  readonly minSeverity?: Severity;
}

/** The findings (raw matches) of the latest detect run, by time, filtered here (every run is stored whole); a store never run through detect is a usage error. */
export async function loadFindings(store: Store, filter: FindingFilter = {}): Promise<Finding[]> {
  const table = await store.one<{ n: number }>(`select count(*) as n from information_schema.tables where table_name = 'detect_runs'`);
  const runs = table && table.n > 0 ? await store.one<{ n: number }>(`select count(*) as n from detect_runs`) : undefined;
  if (!runs || runs.n === 0) {
    throw new UsageError(`no findings in ${store.path}: run "trailhound detect --db ${store.path}" first`);
  }
  const floor = SEVERITIES.indexOf(filter.minSeverity ?? 'info');
  const rows = await store.all<StoredFinding>(
    `select detection, title, severity, outcome, tactics, techniques, event_ids, eventtime, eventname, actor,
            access_key_id, sourceipaddress, account, region, resource, summary
     from findings
     where detect_run_id = (select detect_run_id from detect_runs order by started_at desc, detect_run_id desc limit 1)
       and ($since::timestamptz is null or eventtime >= $since::timestamptz)
       and ($until::timestamptz is null or eventtime < $until::timestamptz)
       and list_position($severities, severity) > $floor
     order by eventtime, event_ids[1], detection, summary`,
    {
      since: filter.since?.toISOString() ?? null,
      until: filter.until?.toISOString() ?? null,
      severities: listValue([...SEVERITIES]),
      floor,
    },
    { severities: LIST(VARCHAR) },
  );
  return rows.map(fromStored);
}

/** The `events` columns the report reads (typed by the registry's names) and the row's provenance. */
type EventRowOut = { readonly [K in 'eventid' | 'eventtime' | 'eventname' | 'eventsource']: string } & {
  readonly [K in Extract<EventColumnName, 'access_key_id' | 'principal_arn' | 'useridentity_type' | 'user_name' | 'session_issuer_arn' | 'sourceipaddress' | 'useragent' | 'awsregion' | 'recipientaccountid' | 'principal_account' | 'errorcode' | 'errormessage' | 'requestparameters' | 'responseelements'>]: string | null;
} & {
  uri: string | null;
  sha256: string | null;
  record_index: number | null;
  run_id: string;
};

// A record without an eventID is named by its content key (`sha256:…`), which loadEvents also finds.
const EVENT_COLUMNS = `coalesce(e.eventid, e.eventkey) as eventid, e.eventtime, e.eventname, e.eventsource, e.access_key_id, e.principal_arn, e.useridentity_type,
            e.user_name, e.session_issuer_arn, e.sourceipaddress, e.useragent, e.awsregion, e.recipientaccountid,
            e.principal_account, e.errorcode, e.errormessage, e.requestparameters::varchar as requestparameters,
            e.responseelements::varchar as responseelements, i.uri, i.sha256, e.record_index, e.run_id`;

/** The events with these ids, by time, each with the file it came from. Unknown ids are left out. */
export async function loadEvents(store: Store, eventIds: Iterable<string>): Promise<EvidenceEvent[]> {
  const ids = [...new Set(eventIds)].sort();
  if (ids.length === 0) return [];
  const rows = await store.all<EventRowOut>(
    `select ${EVENT_COLUMNS}
     from events e
     left join inputs i using (input_id)
     where list_contains($ids, e.eventkey)
     order by e.eventtime, e.eventid`,
    { ids: listValue(ids) },
    { ids: LIST(VARCHAR) },
  );
  return rows.map(toEvidence).sort(byTimeThenId);
}

/** Which credentials' events to read: any event of `keys` or `principals`, and events of `keysFrom.keys` from `keysFrom.ips`. */
export interface CredentialEvents {
  readonly keys: readonly string[];
  readonly principals: readonly string[];
  readonly keysFrom: { readonly keys: readonly string[]; readonly ips: readonly string[] };
  readonly since?: Date;
  readonly until?: Date;
  /** At most this many events, earliest first. */
  readonly limit: number;
}

/** The events of some credentials (on the stored pivot columns, so no record is parsed to find them), by time. */
export async function loadCredentialEvents(store: Store, which: CredentialEvents): Promise<EvidenceEvent[]> {
  if (which.keys.length + which.principals.length + which.keysFrom.keys.length === 0) return [];
  // One single-column filter per branch: an OR across columns makes DuckDB read every stored record.
  const window = [
    ...(which.since ? ['e.eventtime >= $since::timestamptz'] : []),
    ...(which.until ? ['e.eventtime < $until::timestamptz'] : []),
  ];
  const branches = [
    ...(which.keys.length ? ['list_contains($keys, e.access_key_id)'] : []),
    ...(which.principals.length ? ['list_contains($principals, e.principal_arn)'] : []),
    ...(which.keysFrom.keys.length ? ['list_contains($fromKeys, e.access_key_id) and list_contains($fromIps, e.sourceipaddress)'] : []),
  ];
  const params: Record<string, DuckDBValue> = {
    ...(which.keys.length ? { keys: listValue([...which.keys]) } : {}),
    ...(which.principals.length ? { principals: listValue([...which.principals]) } : {}),
    ...(which.keysFrom.keys.length ? { fromKeys: listValue([...which.keysFrom.keys]), fromIps: listValue([...which.keysFrom.ips]) } : {}),
    ...(which.since ? { since: which.since.toISOString() } : {}),
    ...(which.until ? { until: which.until.toISOString() } : {}),
  };
  const types = Object.fromEntries(['keys', 'principals', 'fromKeys', 'fromIps'].filter((k) => k in params).map((k) => [k, LIST(VARCHAR)]));
  const rows = await store.all<EventRowOut>(
    `select * from (
       ${branches.map((b) => `select ${EVENT_COLUMNS} from events e left join inputs i using (input_id) where ${[b, ...window].join(' and ')}`).join('\n       union\n       ')}
     )
     order by eventtime, eventid
     limit ${Math.max(0, Math.floor(which.limit))}`,
    params,
    types,
  );
  return rows.map(toEvidence).sort(byTimeThenId);
}

/** Most follow-up calls read: cleanup is a few hundred calls, not a scan of the account's history. */
const MAX_FOLLOW_UPS = 20_000;

/**
 * The successful calls that can carry a plan action out (COMPLETION_EVENT_NAMES), from the
 * first of the plan's events on, by anyone: a responder's or the attacker's own cleanup.
 * On the stored name column, so no record outside them is parsed.
 */
async function loadFollowUps(store: Store, planEvents: readonly EvidenceEvent[]): Promise<EvidenceEvent[]> {
  const first = planEvents[0]?.eventTime;
  if (!first) return [];
  const rows = await store.all<EventRowOut>(
    `select ${EVENT_COLUMNS} from events e left join inputs i using (input_id)
     where list_contains($names, e.eventname) and e.errorcode is null and e.eventtime >= $since::timestamptz
     order by e.eventtime, e.eventid
     limit ${MAX_FOLLOW_UPS}`,
    { names: listValue([...COMPLETION_EVENT_NAMES]), since: first },
    { names: LIST(VARCHAR) },
  );
  return rows.map(toEvidence);
}

function parse(text: string | null): unknown {
  if (text === null || text === 'null') return null;
  try {
    // First key wins, as in the SQL the detections run: both read the same value from a record with a repeated key.
    return parseJsonFirstWins(text).value;
  } catch {
    return null;
  }
}

function toEvidence(r: EventRowOut): EvidenceEvent {
  return {
    eventId: r.eventid,
    eventTime: r.eventtime,
    eventName: r.eventname,
    eventSource: r.eventsource,
    accessKeyId: r.access_key_id,
    principalArn: r.principal_arn,
    identityType: r.useridentity_type,
    userName: r.user_name,
    sessionIssuerArn: r.session_issuer_arn,
    sourceIp: r.sourceipaddress,
    userAgent: r.useragent,
    region: r.awsregion,
    account: r.recipientaccountid ?? r.principal_account,
    errorCode: r.errorcode,
    errorMessage: r.errormessage,
    requestParameters: parse(r.requestparameters),
    responseElements: parse(r.responseelements),
    provenance: r.uri === null ? null : { uri: r.uri, sha256: r.sha256, recordIndex: r.record_index, runId: r.run_id },
  };
}

/** What a timeline or plan is about: a pivot (any mix) or, with none, the whole store. */
export interface ReportOptions {
  readonly keys?: readonly string[];
  readonly ips?: readonly string[];
  readonly principals?: readonly string[];
  readonly sessions?: readonly string[];
  readonly since?: Date;
  readonly until?: Date;
  /** Findings below this severity are left out (default: all). */
  readonly minSeverity?: Severity;
  /** At most this many lineage events (default 10,000). */
  readonly eventLimit?: number;
  /** The generation time written in the report (default: now); pin it for reproducible output. */
  readonly generatedAt?: Date;
  /** The containment instant for the deny policies (default: the generation time). */
  readonly containedAt?: Date;
  /** The account snapshot to join with: an id, or a time (the newest taken at or before it); default the newest. */
  readonly snapshot?: string;
}

/** Everything a timeline and a plan are built from. */
export interface GatheredEvidence {
  readonly scope: TimelineScope;
  readonly findings: readonly Finding[];
  /** The timeline's events: the lineage's (pivot) or the findings' (whole store). */
  readonly events: readonly EvidenceEvent[];
  /** The plan's events: the findings' and those of the investigated lineage. */
  readonly planEvents: readonly EvidenceEvent[];
  readonly investigations: readonly AnalyzeResult[];
  /** Successful calls, by anyone, that may have carried plan actions out (deletions, deactivations, revocations). */
  readonly followUps: readonly EvidenceEvent[];
  readonly coverage: Coverage;
  /** What the gathering left out, one line each (repeated in the plan's caveats). */
  readonly notes: readonly string[];
  /** The account snapshot the plan's states come from, when the store holds one. */
  readonly snapshot: StoredSnapshot | null;
}

/** Without a pivot, at most this many keys are followed (each costs a read of all its events). */
export const MAX_AUTO_PIVOTS = 5;

/** Without a pivot, at most this many lineage events are read for the plan. */
const DEFAULT_PLAN_EVENTS = 50_000;

function* lineageNodes(nodes: readonly LineageNode[]): Generator<LineageNode> {
  for (const node of nodes) {
    yield node;
    yield* lineageNodes(node.children);
  }
}

/**
 * Reads findings, events and coverage for a scope. With a pivot, the lineage of the pivot
 * (by `analyze`) decides which events and findings belong; without one, every finding
 * counts, and the long-term keys in high or critical findings are investigated as pivots so
 * that the plan sees the credentials they minted and the resources they left.
 */
export async function gatherEvidence(store: Store, options: ReportOptions = {}): Promise<GatheredEvidence> {
  const pivot = { keys: options.keys ?? [], ips: options.ips ?? [], principals: options.principals ?? [], sessions: options.sessions ?? [] };
  const pivoted = pivot.keys.length + pivot.ips.length + pivot.principals.length + pivot.sessions.length > 0;
  const window = { ...(options.since ? { since: options.since } : {}), ...(options.until ? { until: options.until } : {}) };
  const minSeverity = options.minSeverity ?? 'info';
  const all = await loadFindings(store, { ...window, minSeverity });
  const snapshot = await loadSnapshot(store, options.snapshot);
  const scope: TimelineScope = {
    mode: pivoted ? 'pivot' : 'store',
    ...pivot,
    since: options.since ? isoSeconds(options.since) : null,
    until: options.until ? isoSeconds(options.until) : null,
    minSeverity,
  };
  const eventLimit = options.eventLimit ? { eventLimit: options.eventLimit } : {};
  const source = duckdbSource(store);
  const coverage = await storeCoverage(store, window);

  if (pivoted) {
    const result = await analyze(source, { ...pivot, ...window }, eventLimit);
    const lineageIds = new Set(result.events.map((e) => e.eventId));
    const lineageKeys = new Set([...lineageNodes(result.lineage)].filter((n) => n.kind === 'access-key' || n.kind === 'session-key').map((n) => n.label));
    const ips = new Set(pivot.ips);
    const findings = all.filter((f) => f.eventIds.some((id) => lineageIds.has(id)) || (f.accessKeyId !== null && lineageKeys.has(f.accessKeyId)) || (f.sourceIp !== null && ips.has(f.sourceIp)));
    const events = await loadEvents(store, [...lineageIds, ...findings.flatMap((f) => f.eventIds)]);
    const followUps = await loadFollowUps(store, events);
    return { scope, findings, events, planEvents: events, investigations: [result], followUps, coverage, snapshot, notes: result.eventsTruncated ? [`The lineage had more events than the event limit; only the earliest were read (raise --max-events).`] : [] };
  }

  // Long-term keys in high or critical findings, worst first; the first few are followed as pivots.
  const rank = new Map<string, [number, number]>();
  for (const f of all) {
    if (!f.accessKeyId?.startsWith('AKIA') || SEVERITIES.indexOf(f.severity) < SEVERITIES.indexOf('high')) continue;
    const [worst, count] = rank.get(f.accessKeyId) ?? [0, 0];
    rank.set(f.accessKeyId, [Math.max(worst, SEVERITIES.indexOf(f.severity)), count + 1]);
  }
  const ranked = [...rank].sort(([a, [wa, na]], [b, [wb, nb]]) => wb - wa || nb - na || (a < b ? -1 : 1)).map(([key]) => key);
  const followed = ranked.slice(0, MAX_AUTO_PIVOTS).sort();
  const notes = ranked.length > MAX_AUTO_PIVOTS ? [`${ranked.length - MAX_AUTO_PIVOTS} more long-term key(s) in high or critical findings were not followed as pivots: ${ranked.slice(MAX_AUTO_PIVOTS).join(', ')}; pass --key to follow them.`] : [];
  const investigations = followed.length ? [await analyze(source, { keys: followed, ips: [], principals: [], sessions: [], ...window }, { eventLimit: 1 })] : [];
  const findingIds = all.flatMap((f) => f.eventIds);
  // The plan acts on what derived credentials and created users did, and on the followed keys' own calls from an address a finding names.
  const derived = investigations.flatMap((inv) => inv.derivedKeys.map((d) => d.accessKeyId));
  const created = investigations.flatMap((inv) => inv.createdPrincipals.filter((p) => p.kind === 'user' && p.arn).map((p) => p.arn!));
  const suspect = [...new Set(all.map((f) => f.sourceIp).filter((ip): ip is string => !!ip))];
  const limit = options.eventLimit ?? DEFAULT_PLAN_EVENTS;
  const lineage = await loadCredentialEvents(store, { keys: derived, principals: created, keysFrom: { keys: followed, ips: suspect }, ...window, limit });
  if (lineage.length === limit) notes.push(`The lineage had more than ${limit} events the plan could act on; only the earliest were read (raise --max-events).`);
  const cited = await loadEvents(store, findingIds);
  const byId = new Map([...cited, ...lineage].map((e) => [e.eventId, e]));
  const planEvents = [...byId.values()].sort(byTimeThenId);
  const followUps = await loadFollowUps(store, planEvents);
  return { scope, findings: all, events: cited, planEvents, investigations, followUps, coverage, notes, snapshot };
}

/** The remediation plan for a scope (see gatherEvidence). */
export function planOf(evidence: GatheredEvidence, containedAt: Date): RemediationPlan {
  const gaps = evidence.coverage.gaps.slice(0, 10).map((g) => `Evidence gap (${g.kind}${g.region ? `, ${g.region}` : ''}${g.from ? `, ${g.from} .. ${g.to ?? '?'}` : ''}): ${g.detail}`);
  if (evidence.coverage.gaps.length > 10) gaps.push(`${evidence.coverage.gaps.length - 10} more evidence gap(s) not listed.`);
  gaps.push(...evidence.notes);
  return buildPlan({ findings: evidence.findings, events: evidence.planEvents, investigations: evidence.investigations, containedAt: isoSeconds(containedAt), gaps, laterEvents: evidence.followUps, snapshot: evidence.snapshot });
}

/** `trailhound remediate` as a library call. */
export async function planFromStore(store: Store, options: ReportOptions = {}): Promise<RemediationPlan> {
  const generatedAt = options.generatedAt ?? new Date();
  return planOf(await gatherEvidence(store, options), options.containedAt ?? generatedAt);
}

/** `trailhound timeline` as a library call: the report every format renders. */
export async function timelineFromStore(store: Store, options: ReportOptions = {}): Promise<TimelineReport> {
  const generatedAt = options.generatedAt ?? new Date();
  const evidence = await gatherEvidence(store, options);
  const changes = creatingChanges(evidence.investigations.map((i) => i.blastRadius));
  const now = evidence.snapshot ? await nowView(store, evidence.snapshot, changes, evidence.coverage) : undefined;
  return buildTimeline({
    ...(now ? { now } : {}),
    findings: evidence.findings,
    events: evidence.events,
    coverage: evidence.coverage,
    investigations: evidence.investigations,
    plan: planOf(evidence, options.containedAt ?? generatedAt),
    scope: evidence.scope,
    generatedAt: isoSeconds(generatedAt),
    toolVersion: toolVersion(),
    enrich: offlineEnrichment(),
  });
}

/** The packaged databases (or --geoip-db/--asn-db) and the user-agent list, as the timeline names them. */
function offlineEnrichment(): TimelineEnrichment {
  const enricher = defaultEnricher();
  return {
    network: (address) => {
      const { kind, asn, asOrg, country, city, awsOwned, hosting } = enricher.lookup(address);
      return addressLabel({ kind, asn, asOrg, country, city, awsOwned, hosting });
    },
    agentClass: (userAgent) => classifyUserAgent(userAgent),
  };
}
