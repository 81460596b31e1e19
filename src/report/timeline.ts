/**
 * The timeline model: findings interleaved with the events behind them, each entry traceable
 * to its event ids and input files, plus the summary, key facts, coverage, lineage and
 * remediation plan that every format renders. Pure: evidence in, report out.
 */
import type { NowView } from '../snapshot/join.js';
import type { AnalyzeResult, Coverage, LineageNode } from '../analyze/types.js';
import { groupAlerts, type Alert } from '../detect/alerts.js';
import { SEVERITIES, type Severity } from '../detect/catalog.js';
import { counted } from '../core/words.js';
import type { RemediationPlan } from '../remediate/types.js';
import { byTimeThenId, firstUnder, stringsUnder, type EvidenceEvent, type Finding, type Provenance } from './evidence.js';

/** One line of the timeline: a finding, or an event (supporting one, or of the investigated lineage). */
export interface TimelineEntry {
  readonly kind: 'finding' | 'event';
  readonly time: string;
  /** Finding severity; null for events. */
  readonly severity: Severity | null;
  readonly detection: string | null;
  readonly outcome: 'success' | 'attempt' | null;
  /** Finding title, or the event name. */
  readonly title: string;
  /** Finding summary, or a short description of the event's request. */
  readonly summary: string;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly eventName: string | null;
  readonly eventSource: string | null;
  readonly actor: string | null;
  readonly accessKeyId: string | null;
  readonly sourceIp: string | null;
  /** The address's network, offline: `AS15169 Google LLC, US (Mountain View)`, `AWS (aws-service)`, `private`… */
  readonly network: string | null;
  readonly userAgent: string | null;
  /** The user agent's class: `console`, `aws-cli`, `sdk-python`, `attack-tool`… */
  readonly agentClass: string | null;
  readonly region: string | null;
  readonly account: string | null;
  readonly errorCode: string | null;
  readonly resource: string | null;
  readonly eventIds: readonly string[];
  /** For an event: the detections that cite it. */
  readonly citedBy: readonly string[];
  /** Where the entry's events came from (one per event found in the store). */
  readonly provenance: readonly (Provenance & { readonly eventId: string })[];
}

/** What the timeline covers, as asked. */
export interface TimelineScope {
  readonly mode: 'store' | 'pivot';
  readonly keys: readonly string[];
  readonly ips: readonly string[];
  readonly principals: readonly string[];
  readonly sessions: readonly string[];
  readonly since: string | null;
  readonly until: string | null;
  readonly minSeverity: Severity;
}

/** The whole report. */
export interface TimelineReport {
  readonly title: string;
  readonly generatedAt: string;
  readonly toolVersion: string;
  readonly scope: TimelineScope;
  readonly coverage: Coverage;
  /** What happened, in five lines. */
  readonly summary: readonly string[];
  readonly facts: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly entries: readonly TimelineEntry[];
  /** The findings grouped into alerts (detection, key or actor, address, resource, hour), worst first. */
  readonly alerts: readonly Alert[];
  readonly findingCount: number;
  readonly eventCount: number;
  /** The credential lineage of the investigated (or inferred) pivots. */
  readonly lineage: readonly LineageNode[];
  /** True when the lineage's events were cut at the event limit. */
  readonly eventsTruncated: boolean;
  readonly plan: RemediationPlan;
  /** What still exists and what the logs do not explain, from the newest account snapshot. */
  readonly now?: NowView;
}

/** What a timeline is built from. */
export interface TimelineInput {
  readonly findings: readonly Finding[];
  readonly events: readonly EvidenceEvent[];
  readonly coverage: Coverage;
  readonly investigations: readonly AnalyzeResult[];
  readonly plan: RemediationPlan;
  readonly scope: TimelineScope;
  readonly generatedAt: string;
  readonly toolVersion: string;
  /** Offline enrichment of addresses and agents (absent: no enrichment). */
  readonly enrich?: TimelineEnrichment;
  readonly now?: NowView;
}

/** How the timeline names an address's network and a user agent's class. */
export interface TimelineEnrichment {
  network(address: string): string | null;
  agentClass(userAgent: string): string | null;
}

/** Each distinct value looked up once. */
function memo(fn: ((value: string) => string | null) | undefined): (value: string | null) => string | null {
  const seen = new Map<string, string | null>();
  return (value) => {
    if (value === null || !fn) return null;
    if (!seen.has(value)) seen.set(value, fn(value));
    return seen.get(value)!;
  };
}

/** ATT&CK tactic names by id, for the summary. */
export const TACTICS: Record<string, string> = {
  TA0001: 'Initial Access',
  TA0002: 'Execution',
  TA0003: 'Persistence',
  TA0004: 'Privilege Escalation',
  TA0005: 'Defense Evasion',
  TA0006: 'Credential Access',
  TA0007: 'Discovery',
  TA0008: 'Lateral Movement',
  TA0009: 'Collection',
  TA0010: 'Exfiltration',
  TA0011: 'Command and Control',
  TA0040: 'Impact',
  TA0042: 'Resource Development',
  TA0043: 'Reconnaissance',
};

const DETAIL_KEYS = ['userName', 'roleName', 'groupName', 'policyArn', 'policyName', 'bucketName', 'key', 'instanceType', 'name', 'trailName', 'keyName', 'functionName', 'roleArn', 'secretId', 'domainName'];

/** A short description of an event's request: the few parameters that say what it acted on. */
export function describeEvent(e: EvidenceEvent): string {
  const parts: string[] = [];
  for (const key of DETAIL_KEYS) {
    const value = firstUnder(e.requestParameters, key);
    if (value !== null && parts.length < 3) parts.push(`${key}=${value.length > 120 ? `${value.slice(0, 119)}…` : value}`);
  }
  const made = firstUnder(e.responseElements, 'accessKeyId');
  if (made && made !== e.accessKeyId) parts.push(`accessKeyId=${made}`);
  const instances = e.eventName === 'RunInstances' ? new Set(stringsUnder(e.responseElements, 'instanceId')).size : 0;
  if (instances) parts.push(`instances=${instances}`);
  const head = `${e.eventName}${e.region ? ` in ${e.region}` : ''}`;
  const error = e.errorCode ? ` failed: ${e.errorCode}` : '';
  return parts.length ? `${head} (${parts.join(', ')})${error}` : `${head}${error}`;
}

const countBy = <T>(items: readonly T[], key: (t: T) => string | null): Map<string, number> => {
  const out = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
};

const joinList = (values: Iterable<string>, max = 6): string => {
  const list = [...values];
  return list.length <= max ? list.join(', ') : `${list.slice(0, max).join(', ')} and ${list.length - max} more`;
};

/** Builds the timeline: entries sorted by time (event before the findings that cite it), summary and facts. */
export function buildTimeline(input: TimelineInput): TimelineReport {
  const events = [...input.events].sort(byTimeThenId);
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const citedBy = new Map<string, string[]>();
  for (const f of input.findings) for (const id of f.eventIds) citedBy.set(id, [...(citedBy.get(id) ?? []), f.detection]);
  const provenanceOf = (id: string) => {
    const p = byId.get(id)?.provenance;
    return p ? [{ eventId: id, ...p }] : [];
  };

  const network = memo(input.enrich ? (a) => input.enrich!.network(a) : undefined);
  const agentClass = memo(input.enrich ? (u) => input.enrich!.agentClass(u) : undefined);
  const entries: TimelineEntry[] = [
    ...events.map(
      (e): TimelineEntry => ({
        kind: 'event',
        time: e.eventTime,
        severity: null,
        detection: null,
        outcome: null,
        title: e.eventName,
        summary: describeEvent(e),
        tactics: [],
        techniques: [],
        eventName: e.eventName,
        eventSource: e.eventSource,
        actor: e.principalArn,
        accessKeyId: e.accessKeyId,
        sourceIp: e.sourceIp,
        network: network(e.sourceIp),
        userAgent: e.userAgent,
        agentClass: agentClass(e.userAgent),
        region: e.region,
        account: e.account,
        errorCode: e.errorCode,
        resource: null,
        eventIds: [e.eventId],
        citedBy: [...new Set(citedBy.get(e.eventId) ?? [])].sort(),
        provenance: provenanceOf(e.eventId),
      }),
    ),
    ...input.findings.map(
      (f): TimelineEntry => ({
        kind: 'finding',
        time: f.eventTime ?? byId.get(f.eventIds[0] ?? '')?.eventTime ?? '',
        severity: f.severity,
        detection: f.detection,
        outcome: f.outcome,
        title: f.title,
        summary: f.summary ?? f.title,
        tactics: f.tactics,
        techniques: f.techniques,
        eventName: f.eventName,
        eventSource: byId.get(f.eventIds[0] ?? '')?.eventSource ?? null,
        actor: f.actor,
        accessKeyId: f.accessKeyId,
        sourceIp: f.sourceIp,
        network: network(f.sourceIp),
        userAgent: byId.get(f.eventIds[0] ?? '')?.userAgent ?? null,
        agentClass: agentClass(byId.get(f.eventIds[0] ?? '')?.userAgent ?? null),
        region: f.region,
        account: f.account,
        errorCode: byId.get(f.eventIds[0] ?? '')?.errorCode ?? null,
        resource: f.resource,
        eventIds: f.eventIds,
        citedBy: [],
        provenance: f.eventIds.flatMap(provenanceOf),
      }),
    ),
  ];
  const kindRank = (e: TimelineEntry) => (e.kind === 'event' ? 0 : 1);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  entries.sort(
    (a, b) =>
      cmp(a.time, b.time) ||
      cmp(a.eventIds[0] ?? '', b.eventIds[0] ?? '') ||
      kindRank(a) - kindRank(b) ||
      cmp(a.detection ?? '', b.detection ?? '') ||
      cmp(a.summary, b.summary),
  );

  const lineage = input.investigations.flatMap((inv) => inv.lineage);
  return {
    title: titleOf(input.scope),
    generatedAt: input.generatedAt,
    toolVersion: input.toolVersion,
    scope: input.scope,
    coverage: input.coverage,
    summary: summarize(input, events),
    facts: keyFacts(input, events),
    entries,
    alerts: groupAlerts(input.findings).sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || (a.firstTime ?? '').localeCompare(b.firstTime ?? '')),
    findingCount: input.findings.length,
    eventCount: events.length,
    lineage,
    eventsTruncated: input.scope.mode === 'pivot' && input.investigations.some((inv) => inv.eventsTruncated),
    plan: input.plan,
    ...(input.now ? { now: input.now } : {}),
  };
}

function titleOf(scope: TimelineScope): string {
  const pivots = [...scope.keys, ...scope.ips, ...scope.principals, ...scope.sessions];
  return pivots.length ? `Incident timeline: ${joinList(pivots, 3)}` : 'Incident timeline';
}

function findingsOf(findings: readonly Finding[], tactics: readonly string[]): Finding[] {
  return findings.filter((f) => f.tactics.some((t) => tactics.includes(t)));
}

function summaries(findings: readonly Finding[], max = 4): string {
  const unique = [...new Set(findings.map((f) => f.summary ?? f.title))];
  return joinList(unique, max);
}

/** Five lines: who and when, persistence, impact, evasion, and the first thing to do. */
function summarize(input: TimelineInput, events: readonly EvidenceEvent[]): string[] {
  const f = input.findings;
  const severities = countBy(f, (x) => x.severity);
  const bySeverity = [...SEVERITIES].reverse().filter((s) => severities.has(s)).map((s) => `${severities.get(s)} ${s}`).join(', ');
  const keys = [...new Set(f.map((x) => x.accessKeyId).filter((k): k is string => !!k))].sort();
  const ips = [...new Set(f.map((x) => x.sourceIp).filter((k): k is string => !!k))].sort();
  const first = f[0]?.eventTime ?? events[0]?.eventTime ?? null;
  const last = f.at(-1)?.eventTime ?? events.at(-1)?.eventTime ?? null;
  const line1 = f.length
    ? `${counted(f.length, 'finding')} (${bySeverity}) from ${first} to ${last}${keys.length ? `, by ${keys.length === 1 ? 'key' : 'keys'} ${joinList(keys, 4)}` : ''}${ips.length ? `, from ${joinList(ips, 4)}` : ''}.`
    : `No finding at or above ${input.scope.minSeverity} in this scope${events.length ? `; ${counted(events.length, 'event')} listed` : ''}.`;
  // Each finding in one line only: evasion first (the most specific), then persistence, then impact.
  const evasion = findingsOf(f, ['TA0005']).filter((x) => x.detection !== 'region_first_used');
  const persistence = findingsOf(f, ['TA0003', 'TA0004', 'TA0006']).filter((x) => !evasion.includes(x));
  const impact = findingsOf(f, ['TA0040', 'TA0002']).filter((x) => !evasion.includes(x) && !persistence.includes(x));
  const gaps = input.coverage.gaps.filter((g) => g.kind !== 'logging-stopped').length;
  const first1 = input.plan.steps.flatMap((s) => s.actions).find((a) => !a.readOnly && !a.done && a.kind !== 'create-replacement-key');
  const doneActions = input.plan.steps.reduce((n, s) => n + s.actions.filter((a) => a.done).length, 0);
  return [
    line1,
    `Persistence and credentials: ${persistence.length ? summaries(persistence) : 'no finding'}.`,
    `Impact: ${impact.length ? summaries(impact) : 'no finding'}.`,
    `Defense evasion and coverage: ${evasion.length ? summaries(evasion) : 'no finding'}${gaps ? `; ${counted(gaps, 'input')} could not be read` : ''}.`,
    `First action: ${first1 ? actionPhrase(first1) : 'none'}; the plan has ${counted(input.plan.steps.reduce((n, s) => n + s.actions.length, 0), 'action')} in ${counted(input.plan.steps.filter((s) => s.actions.length).length, 'step')}${doneActions ? `, ${doneActions} already done in the evidence` : ''}.`,
  ];
}

/**
 * An action as a phrase: its kind in words, then what it acts on.
 * @example actionPhrase({ kind: 'contact-aws-support', target: '111122223333', … }) === 'contact AWS Support for account 111122223333'
 */
export function actionPhrase(action: { readonly kind: string; readonly target: string }): string {
  const words = action.kind.replace(/-/g, ' ').replace(/\baws\b/g, 'AWS').replace(/\bsupport\b/g, 'Support').replace(/\biam\b/g, 'IAM');
  const accounts = action.target.split(', ');
  const target = accounts.every((a) => /^\d{12}$/.test(a)) ? `for ${accounts.length === 1 ? 'account' : 'accounts'} ${action.target}` : action.target;
  return `${words} ${target}`;
}

function keyFacts(input: TimelineInput, events: readonly EvidenceEvent[]): Array<{ name: string; value: string }> {
  const f = input.findings;
  const c = input.coverage;
  const scope = input.scope;
  const pivots = [...scope.keys, ...scope.ips, ...scope.principals, ...scope.sessions];
  const severities = countBy(f, (x) => x.severity);
  const regions = [...new Set([...f.map((x) => x.region), ...events.map((e) => e.region)].filter((r): r is string => !!r))].sort();
  const ips = [...new Set([...f.map((x) => x.sourceIp)].filter((r): r is string => !!r))].sort();
  const keys = [...new Set([...f.map((x) => x.accessKeyId), ...events.map((e) => e.accessKeyId)].filter((r): r is string => !!r))].sort();
  const techniques = [...new Set(f.flatMap((x) => x.techniques))].sort();
  const derived = input.investigations.flatMap((inv) => inv.derivedKeys.map((d) => `${d.accessKeyId} (${d.usability.status})`));
  const created = input.investigations.flatMap((inv) => inv.createdPrincipals.map((p) => `${p.kind} ${p.name}`));
  const facts = [
    { name: 'Scope', value: pivots.length ? `pivot ${pivots.join(', ')} and its credential lineage` : 'the whole store (findings and the events behind them)' },
    { name: 'Window', value: `${scope.since ?? 'start of evidence'} .. ${scope.until ?? 'end of evidence'}; findings at or above ${scope.minSeverity}` },
    { name: 'Evidence', value: `${counted(c.events, 'event')} from ${c.from ?? '-'} to ${c.to ?? '-'}; accounts ${c.accounts.join(', ') || '-'}; regions ${c.regions.join(', ') || '-'}` },
    { name: 'Findings', value: f.length ? [...SEVERITIES].reverse().filter((s) => severities.has(s)).map((s) => `${severities.get(s)} ${s}`).join(', ') : 'none' },
    { name: 'First / last finding', value: f.length ? `${f[0]!.eventTime} / ${f.at(-1)!.eventTime}` : '-' },
    { name: 'Access keys', value: keys.join(', ') || '-' },
    { name: 'Source addresses in findings', value: ips.join(', ') || '-' },
    { name: 'Regions', value: regions.join(', ') || '-' },
    { name: 'ATT&CK techniques', value: techniques.join(', ') || '-' },
    { name: 'Exposed keys (plan)', value: input.plan.exposedKeys.join(', ') || '-' },
  ];
  if (derived.length) facts.push({ name: 'Derived credentials', value: derived.join(', ') });
  if (created.length) facts.push({ name: 'Created principals', value: created.join(', ') });
  facts.push({ name: 'Coverage gaps', value: c.gaps.length ? c.gaps.map((g) => g.detail).join('; ') : 'none recorded' });
  return facts;
}
