/**
 * Builds the remediation plan from findings, the events behind them and the investigated
 * lineage. Pure: data in, plan out; it reads nothing and calls nothing.
 */
import type { AnalyzeResult, LineageNode } from '../analyze/types.js';
import { SEVERITIES } from '../detect/catalog.js';
import { byTimeThenId, firstUnder, stringsUnder, type EvidenceEvent, type Finding } from '../report/evidence.js';
import { actionStates } from '../snapshot/state.js';
import type { SnapshotDocument } from '../snapshot/types.js';
import { doneInEvidence } from './done.js';
import { actionsFor, DATA_READS } from './event-rules.js';
import { isoSeconds } from '../core/time.js';
import { denyAllPolicy, MAX_ROLE_SESSION_SECONDS, MAX_USER_SESSION_SECONDS, revokeOlderSessionsPolicy } from './policies.js';
import { COMMERCIAL_REGIONS } from './regions.js';
import { command, type Arg } from './shell.js';
import type { RegionCheck, RemediationAction, RemediationPlan, RemediationStep, StepId } from './types.js';

/** What the plan is built from. */
export interface PlanInput {
  readonly findings: readonly Finding[];
  /** The events behind the findings and of the investigated lineage, with request and response. */
  readonly events: readonly EvidenceEvent[];
  /** `trailhound analyze` results for the exposed keys (or the pivot asked for). */
  readonly investigations?: readonly AnalyzeResult[];
  /** When the keys are (or will be) contained: the cut-off of the deny policies. ISO-8601 UTC. */
  readonly containedAt: string;
  /** Evidence gaps to repeat as caveats (logging stopped, skipped inputs…). */
  readonly gaps?: readonly string[];
  /**
   * Calls by anyone that may have carried actions out (the names in COMPLETION_EVENT_NAMES):
   * with `events`, what marks an action done in the evidence.
   */
  readonly laterEvents?: readonly EvidenceEvent[];
  /** The account snapshot that says which actions are still open; absent or null: every state is unknown. */
  readonly snapshot?: SnapshotDocument | null;
}

const STEPS: ReadonlyArray<{ id: StepId; title: string; guidance: string }> = [
  {
    id: 'exposed-keys',
    title: 'Exposed access keys',
    guidance: 'Replace, then deactivate (do not delete yet) each exposed key; check the application still works; delete the key later. Root access keys are deleted outright.',
  },
  {
    id: 'temporary-credentials',
    title: 'Temporary credentials minted from them',
    guidance: 'Deactivating a key does not end the sessions it minted. Deny every session issued before containment (aws:TokenIssueTime), on the user for GetSessionToken/GetFederationToken sessions and on the role for role sessions.',
  },
  {
    id: 'attacker-principals',
    title: 'Principals and credentials the attacker created',
    guidance: 'Each was created or changed by a call in the evidence: the attacker\'s ways back in. Deactivate keys first, then remove passwords, policies and memberships, then delete users and roles (IAM refuses to delete a user that still has them).',
  },
  {
    id: 'launched-resources',
    title: 'Resources launched, in every region',
    guidance: 'Snapshot EBS volumes that are evidence before terminating anything. Inventory every region, including those where nothing was seen: the logs may not show everything.',
  },
  {
    id: 'logging',
    title: 'Logging and security services',
    guidance: 'Restore what the attacker turned off or changed, so that what happens next is recorded.',
  },
  {
    id: 'shared-data',
    title: 'Shared and read data',
    guidance: 'Revoke sharing of snapshots, images and buckets; tell the data owners what may have been read.',
  },
  {
    id: 'account-hygiene',
    title: 'Account hygiene',
    guidance: 'Secure the root user, reset IAM passwords, check the account contacts, and answer AWS Support.',
  },
];

const rank = (severity: string) => SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
const userNameOfArn = (arn: string | null) => (arn ? (/^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] ?? null) : null);
const accountOfArn = (arn: string | null) => (arn ? (/^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1] ?? null) : null);
const isRootArn = (arn: string | null) => arn !== null && /^arn:aws[\w-]*:iam::\d{12}:root$/.test(arn);
const roleOfArn = (arn: string | null) => (arn ? (/^arn:aws[\w-]*:(?:iam::\d{12}:role\/(?:.*\/)?([^/]+)|sts::\d{12}:assumed-role\/([^/]+)\/)/.exec(arn)?.slice(1).find(Boolean) ?? null) : null);

/** Builds the plan. The same input gives the same plan, action for action. */
export function buildPlan(input: PlanInput): RemediationPlan {
  const who = whoActed(input);
  const sweep = regionSweep(who.attacker);
  const hygiene = hygieneActions(who, input.findings);
  const actions = [
    ...exposedKeyActions(who),
    ...temporaryCredentialActions(who, input.containedAt),
    ...leftBehindActions(who),
    sweep.action,
    ...dataReadActions(who.attacker),
    ...hygiene.actions,
  ];
  const { byId, attacker, exposed, exposedSessions } = who;
  // One action per step, kind, target and region, in the order the steps give them.
  const seen = new Set<string>();
  const unique = actions.filter((a) => {
    const id = `${a.step}|${a.kind}|${a.target}|${a.region ?? ''}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const done = markDone(unique, who.events, input.laterEvents ?? []);
  const states = actionStates(done, input.snapshot ?? null);
  const marked = done.map((a, i) => ({ ...a, state: states[i]!.state, stateEvidence: states[i]!.evidence }));
  const steps: RemediationStep[] = STEPS.map((s, i) => ({ ...s, number: i + 1, actions: sortStep(s.id, marked.filter((a) => a.step === s.id), byId) }));
  const caveats = [...(input.gaps ?? [])];
  if (attacker.length === 0 && exposed.size === 0) caveats.push('No finding at or above the chosen severity and no pivot: the plan holds only the checks every incident needs.');
  const snapshot = input.snapshot ? { id: input.snapshot.id, takenAt: input.snapshot.takenAt, account: input.snapshot.account } : null;
  return { containedAt: input.containedAt, accounts: hygiene.accounts, exposedKeys: [...exposed.keys(), ...exposedSessions.keys()].sort(), steps, regions: sweep.regions, caveats, snapshot };
}


/** Each action with the call that already carried it out, where the evidence shows one. */
function markDone(actions: readonly RemediationAction[], events: readonly EvidenceEvent[], later: readonly EvidenceEvent[]): RemediationAction[] {
  const all = new Map(events.map((e) => [e.eventId, e]));
  for (const e of later) if (!all.has(e.eventId)) all.set(e.eventId, e);
  const done = doneInEvidence(actions, [...all.values()].sort(byTimeThenId), (id) => all.get(id)?.eventTime);
  return actions.map((a, i) => (done.has(i) ? { ...a, done: done.get(i)! } : a));
}

/** Who acted for the attacker: the exposed keys and sessions, what they derived, and the attacker's events. */
interface Suspects {
  /** Every event, by time. */
  readonly events: readonly EvidenceEvent[];
  readonly byId: Map<string, EvidenceEvent>;
  readonly investigations: readonly AnalyzeResult[];
  /** Long-term keys the investigation pivoted on, or that acted in a high or critical finding. */
  readonly exposed: Map<string, { principalArn: string | null; account: string | null; evidence: string[]; usability: string | null }>;
  /** Session keys given as pivots. */
  readonly exposedSessions: Map<string, LineageNode>;
  readonly attacker: readonly EvidenceEvent[];
}

/** Step 0: the exposed credentials, those derived from them, and the events they made. */
function whoActed(input: PlanInput): Suspects {
  const events = [...input.events].sort(byTimeThenId);
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const investigations = input.investigations ?? [];
  const findingEvents = new Set(input.findings.flatMap((f) => f.eventIds));
  const suspectIps = new Set(input.findings.map((f) => f.sourceIp).filter((ip): ip is string => !!ip));
  for (const inv of investigations) for (const ip of inv.pivot.ips) suspectIps.add(ip);

  // Keys the attacker made are theirs to delete, not ours to rotate.
  const createdKeys = new Set<string>();
  for (const e of events) if (e.eventName === 'CreateAccessKey' && !e.errorCode) for (const k of stringsUnder(e.responseElements, 'accessKeyId')) createdKeys.add(k);
  for (const inv of investigations) for (const d of inv.derivedKeys) if (d.kind === 'access-key') createdKeys.add(d.accessKeyId);

  // Exposed: long-term keys the investigation pivoted on, or that acted in a high or critical finding.
  const exposed = new Map<string, { principalArn: string | null; account: string | null; evidence: string[]; usability: string | null }>();
  const expose = (key: string, principalArn: string | null, account: string | null, evidence: readonly string[], usability: string | null = null) => {
    if (!key.startsWith('AKIA') || createdKeys.has(key)) return;
    const current = exposed.get(key) ?? { principalArn: null, account: null, evidence: [], usability: null };
    exposed.set(key, {
      principalArn: current.principalArn ?? principalArn,
      account: current.account ?? account,
      evidence: [...new Set([...current.evidence, ...evidence])],
      usability: current.usability ?? usability,
    });
  };
  for (const inv of investigations) {
    for (const node of inv.lineage) if (node.kind === 'access-key') expose(node.label, node.principalArn, node.account, [], `${node.usability.status}: ${node.usability.reason}`);
    for (const key of inv.pivot.keys) expose(key, null, null, []);
  }
  for (const f of input.findings) if (f.accessKeyId && rank(f.severity) >= rank('high')) expose(f.accessKeyId, f.actor, f.account, f.eventIds);
  for (const [key, info] of exposed) {
    const sample = events.find((e) => e.accessKeyId === key);
    if (sample && !info.principalArn) exposed.set(key, { ...info, principalArn: sample.principalArn, account: info.account ?? sample.account });
  }

  // Session keys given as pivots: exposed temporary credentials, revoked on the role or user that owns them.
  const exposedSessions = new Map<string, LineageNode>();
  for (const inv of investigations) for (const node of inv.lineage) if (node.kind === 'session-key' && /^ASIA[A-Z0-9]+$/.test(node.label)) exposedSessions.set(node.label, node);

  // Credentials derived from the exposed keys: sessions they minted, keys created, users made.
  const derived = new Set<string>([...createdKeys, ...exposedSessions.keys()]);
  const createdUsers = new Set<string>();
  for (const inv of investigations) {
    for (const d of inv.derivedKeys) derived.add(d.accessKeyId);
    for (const p of inv.createdPrincipals) if (p.kind === 'user' && p.arn) createdUsers.add(p.arn);
  }
  const acting = (e: EvidenceEvent) => (e.accessKeyId !== null && (exposed.has(e.accessKeyId) || derived.has(e.accessKeyId))) || findingEvents.has(e.eventId);
  for (const e of events) {
    if (e.errorCode || !acting(e)) continue;
    if (['GetSessionToken', 'GetFederationToken', 'AssumeRole'].includes(e.eventName)) for (const k of stringsUnder(e.responseElements, 'accessKeyId')) derived.add(k);
    if (e.eventName === 'CreateUser') {
      const arn = firstUnder(e.responseElements, 'arn');
      if (arn) createdUsers.add(arn);
    }
  }

  // The attacker's events: the findings' own, those of derived credentials and created users, and the exposed keys' calls from addresses a finding names.
  const attacker = events.filter(
    (e) =>
      findingEvents.has(e.eventId) ||
      (e.accessKeyId !== null && derived.has(e.accessKeyId)) ||
      (e.principalArn !== null && createdUsers.has(e.principalArn)) ||
      (e.accessKeyId !== null && exposed.has(e.accessKeyId) && e.sourceIp !== null && suspectIps.has(e.sourceIp)),
  );

  return { events, byId, investigations, exposed, exposedSessions, attacker };
}

/** Step 1: replace, deactivate, later delete each exposed long-term key (root keys: delete). */
function exposedKeyActions({ exposed, attacker }: Suspects): RemediationAction[] {
  const actions: RemediationAction[] = [];
  const push = (a: RemediationAction) => actions.push(a);
  for (const [key, info] of [...exposed].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const evidence = info.evidence.length ? info.evidence : attacker.filter((e) => e.accessKeyId === key).slice(0, 1).map((e) => e.eventId);
    const account = info.account ?? accountOfArn(info.principalArn);
    const seen = attacker.filter((e) => e.accessKeyId === key);
    const fromIps = [...new Set(seen.map((e) => e.sourceIp).filter(Boolean))].sort().join(', ');
    const what = `${seen.length} call(s) in the evidence${fromIps ? ` from ${fromIps}` : ''}${info.usability ? `; ${info.usability}` : ''}`;
    if (isRootArn(info.principalArn)) {
      push({ step: 'exposed-keys', kind: 'delete-root-access-key', target: key, region: null, account, reason: `Root access key ${key} is exposed (${what}). The root user should have no access keys: delete it, signed in as root.`, evidence, ...command(['aws iam delete-access-key', ['--access-key-id', key, 'accessKeyId']]) });
      continue;
    }
    const user = userNameOfArn(info.principalArn);
    const userArg: Arg = ['--user-name', user, 'iamUserName'];
    const who = user ? `of user ${user}` : '(user unknown: look it up with aws iam list-access-keys)';
    push({ step: 'exposed-keys', kind: 'create-replacement-key', target: info.principalArn ?? key, region: null, account, reason: `If an application needs the user's access, create its replacement key first and deploy it (the secret is shown once).`, evidence, ...command(['aws iam create-access-key', userArg]) });
    push({ step: 'exposed-keys', kind: 'deactivate-access-key', target: key, region: null, account, reason: `Access key ${key} ${who} is exposed: ${what}. Deactivate it; deactivation can be undone, deletion cannot.`, evidence, ...command(['aws iam update-access-key', userArg, ['--access-key-id', key, 'accessKeyId'], '--status Inactive']) });
    push({ step: 'exposed-keys', kind: 'verify-deactivation', target: key, region: null, account, reason: `Check the key shows Inactive, that AWS's quarantine policy (AWSCompromisedKeyQuarantineV2), if attached, stays, and that the application works on its new key. Failed calls with the old key keep showing in CloudTrail: watch them.`, evidence: [], ...command(['aws iam list-access-keys', userArg]), readOnly: true });
    push({ step: 'exposed-keys', kind: 'delete-access-key', target: key, region: null, account, reason: `Later, once nothing legitimate needs it: delete ${key}.`, evidence: [], ...command(['aws iam delete-access-key', userArg, ['--access-key-id', key, 'accessKeyId']]) });
  }

  return actions;
}

/** Step 2: deny the sessions minted before containment, on the users and roles that own them, and fix what leaked a service's session. */
function temporaryCredentialActions({ events, investigations, exposed, exposedSessions, attacker }: Suspects, containedAt: string): RemediationAction[] {
  const actions: RemediationAction[] = [];
  const push = (a: RemediationAction) => actions.push(a);
  const policy = revokeOlderSessionsPolicy(containedAt);
  const policyArg = `--policy-document='${JSON.stringify(policy)}'`;
  const users = new Map<string, { arn: string; account: string | null; sessions: Set<string>; evidence: Set<string> }>();
  for (const info of exposed.values()) {
    if (!info.principalArn || isRootArn(info.principalArn) || !userNameOfArn(info.principalArn)) continue;
    users.set(info.principalArn, users.get(info.principalArn) ?? { arn: info.principalArn, account: info.account ?? accountOfArn(info.principalArn), sessions: new Set(), evidence: new Set() });
  }
  const roles = new Map<string, { account: string | null; sessions: Set<string>; evidence: Set<string> }>();
  for (const e of attacker) {
    if (e.errorCode) continue;
    const minted = stringsUnder(e.responseElements, 'accessKeyId').filter((k) => k.startsWith('ASIA'));
    if (minted.length === 0) continue;
    if ((e.eventName === 'GetSessionToken' || e.eventName === 'GetFederationToken') && e.principalArn && userNameOfArn(e.principalArn)) {
      const entry = users.get(e.principalArn) ?? { arn: e.principalArn, account: e.account ?? accountOfArn(e.principalArn), sessions: new Set<string>(), evidence: new Set<string>() };
      minted.forEach((k) => entry.sessions.add(k));
      entry.evidence.add(e.eventId);
      users.set(e.principalArn, entry);
    }
    if (e.eventName === 'AssumeRole' || e.eventName === 'AssumeRoleWithSAML' || e.eventName === 'AssumeRoleWithWebIdentity') {
      const roleArn = firstUnder(e.requestParameters, 'roleArn');
      if (!roleArn) continue;
      const entry = roles.get(roleArn) ?? { account: accountOfArn(roleArn), sessions: new Set<string>(), evidence: new Set<string>() };
      minted.forEach((k) => entry.sessions.add(k));
      entry.evidence.add(e.eventId);
      roles.set(roleArn, entry);
    }
  }
  const leaks: RemediationAction[] = [];
  for (const [key, node] of [...exposedSessions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const principal = node.principalArn ?? events.find((e) => e.accessKeyId === key)?.principalArn ?? null;
    const roleArn = node.session?.roleArn ?? roleArnOf(principal);
    const evidence = node.origin ? [node.origin.eventId] : events.filter((e) => e.accessKeyId === key).slice(0, 1).map((e) => e.eventId);
    if (roleArn) {
      const entry = roles.get(roleArn) ?? { account: accountOfArn(roleArn), sessions: new Set<string>(), evidence: new Set<string>() };
      entry.sessions.add(key);
      evidence.forEach((id) => entry.evidence.add(id));
      roles.set(roleArn, entry);
    } else if (principal && userNameOfArn(principal)) {
      const entry = users.get(principal) ?? { arn: principal, account: accountOfArn(principal), sessions: new Set<string>(), evidence: new Set<string>() };
      entry.sessions.add(key);
      evidence.forEach((id) => entry.evidence.add(id));
      users.set(principal, entry);
    } else {
      leaks.push({
        step: 'temporary-credentials',
        kind: 'find-session-owner',
        target: key,
        region: null,
        account: node.account,
        reason: `Session key ${key} is exposed, but neither the call that minted it nor a call it made names its role or user. Ask AWS which identity owns it (aws sts get-access-key-info gives the account), then put the TokenIssueTime deny policy on that role or user.`,
        evidence,
        ...command(['aws sts get-access-key-info', ['--access-key-id', key, 'accessKeyId']]),
        readOnly: true,
      });
    }
    const leak = leakFix(node);
    if (leak) leaks.push(leak);
  }
  const usabilityOf = new Map<string, string>();
  for (const inv of investigations) for (const node of inv.lineage) if (exposedSessions.has(node.label)) usabilityOf.set(node.label, `${node.usability.status}${node.usability.expiresAt ? `, expiry ${node.usability.expiresAt}` : ''}`);
  for (const inv of investigations) for (const d of inv.derivedKeys) usabilityOf.set(d.accessKeyId, `${d.usability.status}${d.usability.expiresAt ? `, expiry ${d.usability.expiresAt}` : ''}`);
  const sessionList = (s: Set<string>) => [...s].sort().map((k) => (usabilityOf.has(k) ? `${k} (${usabilityOf.get(k)})` : k)).join(', ');
  for (const [arn, entry] of [...users].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const user = userNameOfArn(arn)!;
    const seen = entry.sessions.size ? `Sessions minted in the evidence: ${sessionList(entry.sessions)}.` : 'No session minted from its keys shows in the evidence, but a gap in the logs would hide one; the policy costs nothing.';
    push({
      step: 'temporary-credentials',
      kind: 'deny-sessions-issued-before',
      target: arn,
      region: null,
      account: entry.account,
      reason: `${seen} Attach this policy to ${user}: it denies every session issued before ${containedAt} and leaves the user's new long-term key working.`,
      evidence: [...entry.evidence].sort(),
      ...command(['aws iam put-user-policy', ['--user-name', user, 'iamUserName'], '--policy-name TrailhoundRevokeOlderSessions', policyArg]),
      policy,
    });
    const until = isoSeconds(new Date(Date.parse(containedAt) + MAX_USER_SESSION_SECONDS * 1000));
    push({
      step: 'temporary-credentials',
      kind: 'deny-all-temporarily',
      target: arn,
      region: null,
      account: entry.account,
      reason: `Only instead of the action above, where a dated condition cannot be used: deny everything to ${user} until ${until} (${MAX_USER_SESSION_SECONDS / 3600} hours), then remove the policy (aws iam delete-user-policy --policy-name TrailhoundDenyAll). It blocks the user's long-term keys as well.`,
      evidence: [...entry.evidence].sort(),
      ...command(['aws iam put-user-policy', ['--user-name', user, 'iamUserName'], '--policy-name TrailhoundDenyAll', `--policy-document='${JSON.stringify(denyAllPolicy())}'`]),
      policy: denyAllPolicy(),
    });
  }
  for (const [arn, entry] of [...roles].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const role = roleOfArn(arn);
    push({
      step: 'temporary-credentials',
      kind: 'revoke-role-sessions',
      target: arn,
      region: null,
      account: entry.account,
      reason: `The attacker assumed role ${role ?? arn} (sessions ${sessionList(entry.sessions)}). Revoke its active sessions: the console's "Revoke active sessions" puts this policy on the role as AWSRevokeOlderSessions. Role sessions last at most ${MAX_ROLE_SESSION_SECONDS / 3600} hours.`,
      evidence: [...entry.evidence].sort(),
      ...command(['aws iam put-role-policy', ['--role-name', role, 'iamRoleName'], '--policy-name AWSRevokeOlderSessions', policyArg]),
      policy,
    });
  }

  leaks.forEach(push);

  return actions;
}

/** Steps 3–6: what each attacker call created or changed, and the principals the investigation found without details. */
function leftBehindActions({ attacker, investigations, byId }: Suspects): RemediationAction[] {
  const actions: RemediationAction[] = [];
  const push = (a: RemediationAction) => actions.push(a);
  for (const e of attacker) for (const d of actionsFor(e)) push({ ...d, account: d.account ?? null, evidence: [e.eventId] });
  // Principals the investigation found but whose event did not come with details.
  for (const inv of investigations) {
    for (const p of inv.createdPrincipals) {
      if (byId.has(p.origin.eventId)) continue;
      push({ step: 'attacker-principals', kind: `review-${p.kind}`, target: p.arn ?? p.name, region: null, account: p.account, reason: `${p.kind} ${p.name} made by ${p.origin.eventName} at ${p.origin.eventTime}${p.detail ? ` (${p.detail})` : ''}; delete or revert it.`, evidence: [p.origin.eventId], command: null });
    }
  }

  return actions;
}

/** Every region to sweep, attacker activity first, and the inventory action over all of them. */
function regionSweep(attacker: readonly EvidenceEvent[]): { regions: RegionCheck[]; action: RemediationAction } {
  const activity = new Map<string, { events: number; launches: number }>();
  for (const e of attacker) {
    if (!e.region) continue;
    const entry = activity.get(e.region) ?? { events: 0, launches: 0 };
    entry.events++;
    if (e.eventName === 'RunInstances' && !e.errorCode) entry.launches += stringsUnder(e.responseElements, 'instanceId').length;
    activity.set(e.region, entry);
  }
  const regionNames = [...new Set([...COMMERCIAL_REGIONS, ...activity.keys()])];
  const regions: RegionCheck[] = regionNames
    .map((region) => ({ region, attackerActivity: activity.has(region), launches: activity.get(region)?.launches ?? 0 }))
    .sort((a, b) => Number(b.attackerActivity) - Number(a.attackerActivity) || (a.region < b.region ? -1 : 1));
  const active = regions.filter((r) => r.attackerActivity).map((r) => r.region);
  const action: RemediationAction = {
    step: 'launched-resources',
    kind: 'inventory-all-regions',
    target: 'all regions',
    region: null,
    account: null,
    reason: `List instances (stopped ones too), Spot requests, Auto Scaling groups, volumes, snapshots and AMIs in every enabled region. The attacker acted in ${active.length ? active.join(', ') : 'no region the evidence shows'}; check the others as well.`,
    evidence: [],
    command: `for r in $(aws ec2 describe-regions --query 'Regions[].RegionName' --output text); do echo "== $r"; aws ec2 describe-instances --region "$r" --query 'Reservations[].Instances[].[InstanceId,InstanceType,State.Name,LaunchTime]' --output text; aws ec2 describe-spot-instance-requests --region "$r" --query 'SpotInstanceRequests[].[SpotInstanceRequestId,State]' --output text; aws autoscaling describe-auto-scaling-groups --region "$r" --query 'AutoScalingGroups[].AutoScalingGroupName' --output text; done`,
    readOnly: true,
  };
  return { regions, action };
}

/** Step 6: what may have been read, by bucket or kind of secret. */
function dataReadActions(attacker: readonly EvidenceEvent[]): RemediationAction[] {
  const actions: RemediationAction[] = [];
  const push = (a: RemediationAction) => actions.push(a);
  const reads = new Map<string, { what: string; items: Set<string>; evidence: string[]; region: string | null; account: string | null }>();
  for (const e of attacker) {
    const read = DATA_READS[e.eventName];
    if (!read || e.errorCode) continue;
    const [first, second] = read.keys.map((k) => stringsUnder(e.requestParameters, k));
    const container = e.eventName === 'GetObject' ? (first?.[0] ?? '?') : read.what;
    const items = e.eventName === 'GetObject' ? (second ?? []) : (first ?? []);
    const entry = reads.get(container) ?? { what: read.what, items: new Set<string>(), evidence: [], region: e.region, account: e.account };
    items.forEach((i) => entry.items.add(i));
    entry.evidence.push(e.eventId);
    reads.set(container, entry);
  }
  for (const [container, entry] of [...reads].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const items = [...entry.items].sort();
    const shown = items.slice(0, 20).join(', ');
    push({
      step: 'shared-data',
      kind: 'review-data-read',
      target: container,
      region: entry.region,
      account: entry.account,
      reason: `${entry.evidence.length} read(s) of ${entry.what === 'S3 object' ? `objects in bucket ${container}` : entry.what}: ${shown}${items.length > 20 ? ` and ${items.length - 20} more` : ''}. Tell the data owner; S3 data events are only in the logs when the trail records them.`,
      evidence: entry.evidence,
      command: null,
      readOnly: true,
    });
  }

  return actions;
}

/** Step 7: the checks every incident needs (root user, passwords, contacts, AWS Support), with the evidence some of them have. */
function hygieneActions({ events, attacker }: Suspects, findings: readonly Finding[]): { actions: RemediationAction[]; accounts: string[] } {
  const actions: RemediationAction[] = [];
  const push = (a: RemediationAction) => actions.push(a);
  // 7. Account hygiene: every incident needs these; some come with evidence.
  const consoleUsers = [...new Set(attacker.filter((e) => (e.eventName === 'CreateLoginProfile' || e.eventName === 'UpdateLoginProfile' || e.eventName === 'ConsoleLogin') && !e.errorCode).map((e) => firstUnder(e.requestParameters, 'userName') ?? e.userName ?? userNameOfArn(e.principalArn)).filter((u): u is string => !!u))].sort();
  const contactEvents = attacker.filter((e) => ['PutContactInformation', 'PutAlternateContact', 'DeleteAlternateContact', 'UpdateAccountName', 'PutAccountName'].includes(e.eventName));
  const accounts = [...new Set([...events.map((e) => e.account), ...findings.map((f) => f.account)].filter((a): a is string => !!a))].sort();
  const accountTarget = accounts.join(', ') || 'the account';
  push({ step: 'account-hygiene', kind: 'secure-root-user', target: accountTarget, region: null, account: accounts[0] ?? null, reason: 'Change the root user password, turn on MFA for it, and confirm it has no access keys (aws iam get-account-summary shows AccountAccessKeysPresent).', evidence: [], command: 'aws iam get-account-summary', readOnly: true });
  push({ step: 'account-hygiene', kind: 'reset-iam-passwords', target: consoleUsers.length ? consoleUsers.join(', ') : 'IAM users with console access', region: null, account: accounts[0] ?? null, reason: `Reset the passwords of the IAM users your team keeps${consoleUsers.length ? `; the attacker touched console access of ${consoleUsers.join(', ')}` : ''}. The credential report lists every password and key with its last use.`, evidence: attacker.filter((e) => e.eventName === 'CreateLoginProfile' || e.eventName === 'UpdateLoginProfile' || e.eventName === 'ConsoleLogin').map((e) => e.eventId), command: 'aws iam generate-credential-report && aws iam get-credential-report --query Content --output text | base64 -d', readOnly: true });
  push({ step: 'account-hygiene', kind: 'check-account-contacts', target: accountTarget, region: null, account: accounts[0] ?? null, reason: contactEvents.length ? `The attacker changed account contact details (${contactEvents.map((e) => e.eventName).join(', ')}): restore them so that AWS reaches you.` : 'Check the account name, root email and the primary and alternate contacts are yours.', evidence: contactEvents.map((e) => e.eventId), command: 'aws account get-contact-information', readOnly: true });
  push({ step: 'account-hygiene', kind: 'contact-aws-support', target: accountTarget, region: null, account: accounts[0] ?? null, reason: 'Answer any AWS notice in the Support Center with what was done, and open a case about charges the attacker caused. Never put keys or passwords in the case.', evidence: [], command: null });

  return { actions, accounts };
}

/** The role behind a role ARN or a role session's ARN (an IAM path, if any, is not in a session ARN). */
function roleArnOf(arn: string | null): string | null {
  const session = arn ? /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn) : null;
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  return arn && /^arn:aws[\w-]*:iam::\d{12}:role\//.test(arn) ? arn : null;
}

/**
 * What let a service's session key leak: Lambda names the session after the function, ECS
 * after the task, EC2 after the instance. The key was read from that compute (its
 * environment, the metadata service), so that is what must be fixed before new keys leak too.
 */
function leakFix(node: LineageNode): RemediationAction | null {
  const origin = node.origin;
  const service = origin?.invoker && /^[a-z0-9.-]+\.amazonaws\.com$/.test(origin.invoker) ? origin.invoker : null;
  if (!origin || !service) return null;
  const name = node.session?.sessionName ?? null;
  const role = node.session?.roleArn ?? roleArnOf(node.principalArn) ?? 'its role';
  const base = { step: 'temporary-credentials' as const, region: origin.region, account: node.account, evidence: [origin.eventId] };
  const leaked = `Session key ${node.label} was minted by ${service} for ${role}`;
  if (service === 'lambda.amazonaws.com') {
    return {
      ...base,
      kind: 'fix-leaking-function',
      target: name ?? role,
      reason: `${leaked}: the function${name ? ` ${name}` : ''} handed out its credentials (read from its environment through code injection, SSRF or a logged environment). Fix the function, and narrow the role to what the function needs.`,
      ...(name ? command(['aws lambda get-function-configuration', ['--function-name', name, 'lambdaFunctionName'], ...(origin.region ? [['--region', origin.region, 'region'] as const] : [])]) : { command: null }),
      readOnly: true,
    };
  }
  if (service === 'ecs-tasks.amazonaws.com') {
    return {
      ...base,
      kind: 'fix-leaking-task',
      target: name ?? role,
      reason: `${leaked}: the ECS task${name ? ` ${name}` : ''} handed out its credentials (from the task metadata endpoint, reachable through SSRF or a shell in the container). Fix the container, and narrow the task role.`,
      command: null,
    };
  }
  if (service === 'ec2.amazonaws.com') {
    return {
      ...base,
      kind: 'fix-leaking-instance',
      target: name ?? role,
      reason: `${leaked}: the instance${name ? ` ${name}` : ''} handed out its instance-profile credentials (the metadata service, reachable through SSRF). Require IMDSv2 on it and fix what reached the metadata service.`,
      // The session is named after the instance; a name that is not an instance id names nothing to fix by command.
      ...(name?.startsWith('i-') ? command(['aws ec2 modify-instance-metadata-options', ['--instance-id', name, 'ec2InstanceId'], '--http-tokens required', ...(origin.region ? [['--region', origin.region, 'region'] as const] : [])]) : { command: null }),
    };
  }
  return {
    ...base,
    kind: 'fix-leaking-service',
    target: name ?? role,
    reason: `${leaked}: find the resource of ${service} the session${name ? ` ${name}` : ''} belongs to and how its credentials were read.`,
    command: null,
  };
}

/** IAM refuses to delete a user or role that still has keys, passwords or policies: those go first. */
const PRINCIPAL_ORDER = [
  'deactivate-access-key',
  'delete-access-key',
  'delete-login-profile',
  'delete-service-specific-credential',
  'delete-ssh-public-key',
  'delete-signing-certificate',
  'detach-user-policy',
  'detach-role-policy',
  'detach-group-policy',
  'delete-user-policy',
  'delete-role-policy',
  'delete-group-policy',
  'remove-user-from-group',
  'revert-trust-policy',
  'revert-policy-version',
  'delete-policy',
  'delete-role',
  'delete-user',
];

function sortStep(step: StepId, actions: RemediationAction[], byId: Map<string, EvidenceEvent>): RemediationAction[] {
  if (step === 'exposed-keys' || step === 'account-hygiene' || step === 'temporary-credentials') return actions;
  const time = (a: RemediationAction) => (a.evidence[0] ? (byId.get(a.evidence[0])?.eventTime ?? '') : '\uffff');
  const kindRank = (a: RemediationAction) => {
    if (step === 'attacker-principals') {
      const i = PRINCIPAL_ORDER.indexOf(a.kind);
      return i < 0 ? PRINCIPAL_ORDER.length : i;
    }
    if (step === 'launched-resources') return a.kind === 'inventory-all-regions' ? 2 : a.kind === 'snapshot-volumes' ? 0 : 1;
    return 0;
  };
  return [...actions].sort((a, b) => kindRank(a) - kindRank(b) || (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : 0) || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
