/**
 * Each remediation action against the account as the latest snapshot saw it: `open` (the key
 * is still Active, the instance still runs), `done` (with the snapshot that shows it), or
 * `unknown` (no snapshot, another account, a kind the snapshot does not read, or a read that
 * failed — absence from a read that failed proves nothing). Pure: a plan's actions and a
 * snapshot in, a state per action out.
 */
import type { RemediationAction } from '../remediate/types.js';
import type { SnapshotDocument, SnapshotResource, ResourceKind } from './types.js';

export type { SnapshotRef } from './types.js';

export type ActionState = 'open' | 'done' | 'unknown';

export interface StateVerdict {
  readonly state: ActionState;
  /** What the snapshot shows, with its id and time; or why the state is unknown. */
  readonly evidence: string;
}

const last = (value: string, sep = /[/:]/) => value.split(sep).at(-1) ?? value;
const list = (r: SnapshotResource | undefined, key: string): string[] => (Array.isArray(r?.detail[key]) ? (r!.detail[key] as unknown[]).map(String) : []);

class View {
  private readonly index = new Map<string, SnapshotResource>();
  constructor(readonly snap: SnapshotDocument) {
    for (const r of snap.resources) this.index.set(`${r.kind}|${r.region ?? ''}|${r.id}`, r);
  }

  find(kind: ResourceKind, id: string, region: string | null = null): SnapshotResource | undefined {
    return this.index.get(`${kind}|${region ?? ''}|${id}`);
  }

  /** Whether the snapshot read these calls (in this region) without a failure. */
  covered(calls: readonly string[], region: string | null = null): boolean {
    if (region && !this.snap.regions.some((r) => r.name === region && r.scanned)) return false;
    return !this.snap.gaps.some((g) => calls.includes(g.call) && (region === null || g.region === region || g.region === null));
  }

  verdict(state: ActionState, what: string): StateVerdict {
    return { state, evidence: state === 'unknown' ? what : `snapshot ${this.snap.id} (${this.snap.takenAt}): ${what}` };
  }

  /** open when found (and `isOpen`), done when gone from a complete read, unknown otherwise. */
  exists(kind: ResourceKind, id: string, region: string | null, calls: readonly string[], label: string, isOpen: (r: SnapshotResource) => boolean = () => true): StateVerdict {
    const r = this.find(kind, id, region);
    const where = region ? ` in ${region}` : '';
    if (r) return isOpen(r) ? this.verdict('open', `${label} still exists${where}${r.state && r.state !== 'exists' ? ` (${r.state})` : ''}`) : this.verdict('done', `${label}${where} is ${r.state ?? 'gone'}`);
    if (this.covered(calls, region)) return this.verdict('done', `${label} no longer exists${where}`);
    return this.verdict('unknown', `the snapshot could not read ${calls.join(', ')}${where}`);
  }

  /** For a principal's list (policies, groups): open while it holds the item. */
  holds(kind: 'iam:user' | 'iam:role', name: string, key: string, item: string, calls: readonly string[], label: string): StateVerdict {
    const r = this.find(kind, name);
    const who = `${kind === 'iam:user' ? 'user' : 'role'} ${name}`;
    if (!r) return this.covered(['iam:ListUsers', 'iam:ListRoles']) ? this.verdict('done', `${who} no longer exists`) : this.verdict('unknown', `the snapshot could not list IAM ${kind === 'iam:user' ? 'users' : 'roles'}`);
    if (!this.covered(calls)) return this.verdict('unknown', `the snapshot could not read ${calls.join(', ')}`);
    const has = list(r, key).some((v) => v === item || last(v) === last(item));
    return has ? this.verdict('open', `${who} still has ${label}`) : this.verdict('done', `${who} no longer has ${label}`);
  }
}

type Rule = (view: View, action: RemediationAction) => StateVerdict;

const KEY_CALLS = ['iam:ListUsers', 'iam:ListAccessKeys'];
const USER_CALLS = ['iam:ListUsers'];
const ROLE_CALLS = ['iam:ListRoles'];

const keyState: Rule = (v, a) => v.exists('iam:access-key', a.target, null, KEY_CALLS, `access key ${a.target}`, (r) => r.state === 'Active');
const regional = (kind: ResourceKind, calls: readonly string[], label: string, isOpen?: (r: SnapshotResource) => boolean, id: (t: string) => string = (t) => t): Rule => (v, a) =>
  a.region ? v.exists(kind, id(a.target), a.region, calls, `${label} ${id(a.target)}`, isOpen) : v.verdict('unknown', 'the action names no region');
const stateNotIn = (...states: string[]) => (r: SnapshotResource) => !states.includes((r.state ?? '').toLowerCase());

/** Several instances or Spot requests: open while any is. */
const each = (kind: ResourceKind, calls: readonly string[], label: string, isOpen: (r: SnapshotResource) => boolean): Rule => (v, a) => {
  if (!a.region) return v.verdict('unknown', 'the action names no region');
  const found = a.target.split(' ').filter(Boolean).map((id) => [id, v.find(kind, id, a.region)] as const);
  const open = found.filter(([, r]) => r && isOpen(r));
  if (open.length) return v.verdict('open', `${open.map(([id, r]) => `${label} ${id} (${r!.state ?? '?'})`).join(', ')} still there in ${a.region}`);
  if (found.some(([, r]) => !r) && !v.covered(calls, a.region)) return v.verdict('unknown', `the snapshot could not read ${calls.join(', ')} in ${a.region}`);
  return v.verdict('done', `every ${label} of the action is terminated or gone in ${a.region}`);
};

/** A deny policy the plan puts on a principal: holding it is what done means. */
function sessionPolicy(kind: 'iam:user' | 'iam:role', policy: string, call: string): Rule {
  return (v, a) => {
    const name = last(a.target, /\//);
    const who = `${kind === 'iam:user' ? 'user' : 'role'} ${name}`;
    const held = v.holds(kind, name, 'inlinePolicies', policy, [call], `the policy ${policy}`);
    if (held.state === 'unknown' || held.evidence.endsWith(' no longer exists')) return held;
    return held.state === 'open' ? v.verdict('done', `${who} has the policy ${policy}`) : v.verdict('open', `${who} does not have the policy ${policy} yet`);
  };
}

const RULES: Readonly<Record<string, Rule>> = {
  'deactivate-access-key': keyState,
  'verify-deactivation': keyState,
  'delete-access-key': (v, a) => v.exists('iam:access-key', a.target, null, KEY_CALLS, `access key ${a.target}`),
  'delete-root-access-key': (v) => {
    const root = v.snap.credentialReport?.find((r) => r['user'] === '<root_account>');
    if (!root) return v.verdict('unknown', 'the snapshot has no credential report');
    const active = ['access_key_1_active', 'access_key_2_active'].filter((k) => root[k] === 'true');
    return active.length ? v.verdict('open', `the credential report shows an active root access key (${active.join(', ')})`) : v.verdict('done', 'the credential report shows no active root access key');
  },
  'delete-user': (v, a) => v.exists('iam:user', last(a.target, /\//), null, USER_CALLS, `user ${last(a.target, /\//)}`),
  'delete-login-profile': (v, a) => {
    const name = last(a.target, /\//);
    const user = v.find('iam:user', name);
    if (!user) return v.exists('iam:user', name, null, USER_CALLS, `user ${name}`);
    const password = user.detail['passwordEnabled'];
    if (password === true) return v.verdict('open', `user ${name} still has a console password`);
    if (password === false) return v.verdict('done', `user ${name} has no console password`);
    return v.verdict('unknown', 'the snapshot could not read iam:GetLoginProfile');
  },
  'detach-user-policy': (v, a) => v.holds('iam:user', last(a.target.split(' ')[0] ?? '', /\//), 'attachedPolicies', a.target.split(' ')[1] ?? '', ['iam:ListAttachedUserPolicies'], `${a.target.split(' ')[1]} attached`),
  'delete-user-policy': (v, a) => v.holds('iam:user', last(a.target.split(' ')[0] ?? '', /\//), 'inlinePolicies', a.target.split(' ')[1] ?? '', ['iam:ListUserPolicies'], `inline policy ${a.target.split(' ')[1]}`),
  'detach-role-policy': (v, a) => v.holds('iam:role', last(a.target.split(' ')[0] ?? '', /\//), 'attachedPolicies', a.target.split(' ')[1] ?? '', ['iam:ListAttachedRolePolicies'], `${a.target.split(' ')[1]} attached`),
  'delete-role-policy': (v, a) => v.holds('iam:role', last(a.target.split(' ')[0] ?? '', /\//), 'inlinePolicies', a.target.split(' ')[1] ?? '', ['iam:ListRolePolicies'], `inline policy ${a.target.split(' ')[1]}`),
  'remove-user-from-group': (v, a) => {
    const [group, user] = a.target.split('/');
    return v.holds('iam:user', user ?? '', 'groups', group ?? '', ['iam:ListGroupsForUser'], `membership of ${group}`);
  },
  'delete-role': (v, a) => v.exists('iam:role', last(a.target, /\//), null, ROLE_CALLS, `role ${last(a.target, /\//)}`),
  // Done once the deny policy the plan gives is on the principal (or the principal is gone).
  'deny-sessions-issued-before': sessionPolicy('iam:user', 'TrailhoundRevokeOlderSessions', 'iam:ListUserPolicies'),
  'revoke-role-sessions': sessionPolicy('iam:role', 'AWSRevokeOlderSessions', 'iam:ListRolePolicies'),
  'terminate-instances': each('ec2:instance', ['ec2:DescribeInstances'], 'instance', stateNotIn('terminated', 'shutting-down')),
  'cancel-spot-requests': each('ec2:spot-request', ['ec2:DescribeSpotInstanceRequests'], 'Spot request', stateNotIn('cancelled', 'closed', 'failed')),
  'delete-auto-scaling-group': regional('autoscaling:group', ['autoscaling:DescribeAutoScalingGroups'], 'Auto Scaling group'),
  'delete-launch-template': regional('ec2:launch-template', ['ec2:DescribeLaunchTemplates'], 'launch template'),
  'delete-key-pair': regional('ec2:key-pair', ['ec2:DescribeKeyPairs'], 'key pair'),
  'delete-lambda-function': regional('lambda:function', ['lambda:ListFunctions'], 'function', undefined, (t) => (t.startsWith('arn:') ? t.split(':')[6] ?? t : t)),
  'delete-ecs-cluster': regional('ecs:cluster', ['ecs:ListClusters'], 'ECS cluster', stateNotIn('inactive', 'deprovisioning'), (t) => last(t, /\//)),
  'delete-ecr-repository': regional('ecr:repository', ['ecr:DescribeRepositories'], 'ECR repository'),
  'delete-sagemaker-notebook': regional('sagemaker:notebook', ['sagemaker:ListNotebookInstances'], 'notebook', stateNotIn('deleting')),
  'delete-lightsail-instance': regional('lightsail:instance', ['lightsail:GetInstances'], 'Lightsail instance'),
};

/** The verdict for every action, in order. */
export function actionStates(actions: readonly RemediationAction[], snap: SnapshotDocument | null): StateVerdict[] {
  if (!snap) return actions.map(() => ({ state: 'unknown', evidence: 'no account snapshot in the store ("trailhound snapshot" takes one)' }));
  const view = new View(snap);
  return actions.map((action) => {
    if (action.account && snap.account && action.account !== snap.account) return { state: 'unknown', evidence: `the snapshot is of account ${snap.account}, not ${action.account}` };
    const rule = RULES[action.kind];
    if (!rule) return { state: 'unknown', evidence: action.readOnly ? 'a check for a person' : 'the snapshot does not read what this action changes' };
    return rule(view, action);
  });
}
