import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/remediate/plan.js';
import type { RemediationAction, RemediationPlan } from '../../src/remediate/types.js';
import { renderPlanMarkdown, renderPlanShell } from '../../src/report/plan-renderers.js';
import { resource } from '../../src/snapshot/context.js';
import { actionStates } from '../../src/snapshot/state.js';
import { SNAPSHOT_FORMAT, type SnapshotDocument, type SnapshotResource } from '../../src/snapshot/types.js';
import { CREATED_USER, evidenceEvent, findingOf } from '../helpers/evidence.js';

const CONTAINED = '2026-03-06T12:00:00Z';

/** The attacker's key makes a user with a key, a password and admin rights, and launches two instances. */
function incident() {
  const createUser = evidenceEvent('CreateUser', { eventId: 'e-user', eventTime: '2026-03-04T01:00:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { user: { arn: 'arn:aws:iam::111122223333:user/backdoor' } } });
  const createKey = evidenceEvent('CreateAccessKey', { eventId: 'e-key', eventTime: '2026-03-04T01:01:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { accessKey: { accessKeyId: 'AKIAEXAMPLEBACKDOOR', userName: 'backdoor' } } });
  const attach = evidenceEvent('AttachUserPolicy', { eventId: 'e-attach', eventTime: '2026-03-04T01:02:00Z', requestParameters: { userName: 'backdoor', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } });
  const password = evidenceEvent('CreateLoginProfile', { eventId: 'e-login', eventTime: '2026-03-04T01:02:30Z', requestParameters: { userName: 'backdoor' } });
  const run = evidenceEvent('RunInstances', { eventId: 'e-run', eventTime: '2026-03-04T01:03:00Z', eventSource: 'ec2.amazonaws.com', region: 'sa-east-1', requestParameters: { instanceType: 'p3.16xlarge' }, responseElements: { instancesSet: { items: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }, { instanceId: 'i-0aaaaaaaaaaaaaaa2' }] } } });
  const fn = evidenceEvent('CreateFunction20150331', { eventId: 'e-fn', eventTime: '2026-03-04T01:04:00Z', eventSource: 'lambda.amazonaws.com', region: 'us-east-1', requestParameters: { functionName: 'exfil' } });
  const events = [createUser, createKey, attach, password, run, fn];
  const findings = [findingOf(createUser, CREATED_USER), ...[createKey, attach, password, run, fn].map((e) => findingOf(e))];
  return { events, findings };
}

function snapshot(resources: SnapshotResource[], gaps: SnapshotDocument['gaps'] = []): SnapshotDocument {
  return {
    format: SNAPSHOT_FORMAT,
    version: 1,
    id: '20260306T140000Z-abc123',
    takenAt: '2026-03-06T14:00:00.000Z',
    finishedAt: '2026-03-06T14:01:00.000Z',
    durationMs: 60000,
    account: '111122223333',
    callerArn: 'arn:aws:iam::111122223333:user/responder',
    toolVersion: 'test',
    calls: 100,
    regions: ['us-east-1', 'sa-east-1', 'eu-west-1'].map((name) => ({ name, optInStatus: 'opt-in-not-required', scanned: true })),
    resources,
    gaps,
    credentialReport: [{ user: '<root_account>', access_key_1_active: 'false', access_key_2_active: 'false' }],
  };
}

/** After a partial cleanup: the key deactivated and one instance terminated; the user, its policy and password, the other instance and the function remain. */
const partlyCleaned = () =>
  snapshot([
    resource({ kind: 'iam:user', region: null, id: 'backdoor', state: 'exists', detail: { passwordEnabled: true, attachedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'], inlinePolicies: [], groups: [] } }),
    resource({ kind: 'iam:access-key', region: null, id: 'AKIAEXAMPLEBACKDOOR', state: 'Inactive', detail: { userName: 'backdoor' } }),
    resource({ kind: 'ec2:instance', region: 'sa-east-1', id: 'i-0aaaaaaaaaaaaaaa1', state: 'terminated' }),
    resource({ kind: 'ec2:instance', region: 'sa-east-1', id: 'i-0aaaaaaaaaaaaaaa2', state: 'running' }),
    resource({ kind: 'lambda:function', region: 'us-east-1', id: 'exfil', state: 'Active' }),
  ]);

const actions = (plan: RemediationPlan): RemediationAction[] => plan.steps.flatMap((s) => s.actions);
const stateOf = (plan: RemediationPlan, kind: string, target?: string) => actions(plan).find((a) => a.kind === kind && (!target || a.target === target));

describe('remediation actions joined with an account snapshot', () => {
  it('are all unknown, and say why, without a snapshot', () => {
    const { events, findings } = incident();
    const plan = buildPlan({ findings, events, containedAt: CONTAINED });
    expect(plan.snapshot).toBeNull();
    expect(new Set(actions(plan).map((a) => a.state))).toEqual(new Set(['unknown']));
    expect(actions(plan)[0]!.stateEvidence).toMatch(/no account snapshot/);
    // Markdown and the script say nothing of states they do not know.
    expect(renderPlanMarkdown(plan)).not.toMatch(/Now: /);
  });

  it('are open while the snapshot shows the thing, done when it shows it gone, each with the snapshot named', () => {
    const { events, findings } = incident();
    const plan = buildPlan({ findings, events, containedAt: CONTAINED, snapshot: partlyCleaned() });
    expect(plan.snapshot).toEqual({ id: '20260306T140000Z-abc123', takenAt: '2026-03-06T14:00:00.000Z', account: '111122223333' });
    expect(stateOf(plan, 'deactivate-access-key', 'AKIAEXAMPLEBACKDOOR')).toMatchObject({ state: 'done', stateEvidence: expect.stringMatching(/^snapshot 20260306T140000Z-abc123 \(2026-03-06T14:00:00.000Z\): access key AKIAEXAMPLEBACKDOOR is Inactive/) });
    expect(stateOf(plan, 'delete-access-key', 'AKIAEXAMPLEBACKDOOR')).toMatchObject({ state: 'open', stateEvidence: expect.stringMatching(/still exists \(Inactive\)/) });
    expect(stateOf(plan, 'delete-user')).toMatchObject({ state: 'open' });
    expect(stateOf(plan, 'detach-user-policy')).toMatchObject({ state: 'open', stateEvidence: expect.stringMatching(/user backdoor still has arn:aws:iam::aws:policy\/AdministratorAccess attached/) });
    expect(stateOf(plan, 'delete-login-profile')).toMatchObject({ state: 'open' });
    expect(stateOf(plan, 'terminate-instances')).toMatchObject({ state: 'open', stateEvidence: expect.stringMatching(/instance i-0aaaaaaaaaaaaaaa2 \(running\) still there in sa-east-1/) });
    expect(stateOf(plan, 'terminate-instances')!.stateEvidence).not.toMatch(/aaaaaaaaa1/);
    expect(stateOf(plan, 'delete-lambda-function')).toMatchObject({ state: 'open', region: 'us-east-1' });
    // Read-only checks are for a person.
    expect(actions(plan).filter((a) => a.readOnly && a.kind !== 'verify-deactivation').every((a) => a.state === 'unknown')).toBe(true);
    const md = renderPlanMarkdown(plan);
    expect(md).toMatch(/Account snapshot 20260306T140000Z-abc123 \(2026-03-06T14:00:00.000Z, account 111122223333\): \d+ open, \d+ done, \d+ unknown\./);
    expect(md).toMatch(/- \[x\] \*\*deactivate-access-key\*\* AKIAEXAMPLEBACKDOOR/);
    expect(md).toMatch(/- \[ \] \*\*delete-user\*\*/);
    expect(md).toMatch(/Now: OPEN, snapshot/);
    expect(renderPlanShell(plan)).toMatch(/#\s+Now: done, snapshot 20260306T140000Z-abc123/);
  });

  it('are done once everything is gone from a complete read, and unknown where the read failed', () => {
    const { events, findings } = incident();
    const clean = snapshot([resource({ kind: 'ec2:instance', region: 'sa-east-1', id: 'i-0aaaaaaaaaaaaaaa1', state: 'terminated' })], [{ service: 'lambda', region: 'us-east-1', call: 'lambda:ListFunctions', reason: 'access denied' }]);
    const plan = buildPlan({ findings, events, containedAt: CONTAINED, snapshot: clean });
    // The exposed key itself is gone from the IAM listing too (the snapshot lists no key at all).
    for (const kind of ['deactivate-access-key', 'delete-access-key', 'delete-user', 'detach-user-policy', 'delete-login-profile', 'terminate-instances']) expect(stateOf(plan, kind)?.state, kind).toBe('done');
    expect(stateOf(plan, 'delete-user')!.stateEvidence).toMatch(/user backdoor no longer exists/);
    // The function's region could not be read: its absence proves nothing.
    expect(stateOf(plan, 'delete-lambda-function')).toMatchObject({ state: 'unknown', stateEvidence: expect.stringMatching(/could not read lambda:ListFunctions in us-east-1/) });
  });

  it('are unknown for another account, and in a region the snapshot did not read', () => {
    const other = { ...partlyCleaned(), account: '999988887777' };
    const action = { step: 'exposed-keys', kind: 'deactivate-access-key', target: 'AKIAEXAMPLEBACKDOOR', region: null, account: '111122223333', reason: '', evidence: [], command: null } as const;
    expect(actionStates([action], other)[0]).toEqual({ state: 'unknown', evidence: 'the snapshot is of account 999988887777, not 111122223333' });
    const unread = { ...action, step: 'launched-resources' as const, kind: 'terminate-instances', target: 'i-0bbbbbbbbbbbbbbb1', region: 'ap-east-1' };
    expect(actionStates([unread], partlyCleaned())[0]!.state).toBe('unknown');
  });

  it('read the session deny policy on a user and the root keys from the credential report', () => {
    const base = { step: 'temporary-credentials', region: null, account: null, reason: '', evidence: [], command: null } as const;
    const deny = { ...base, kind: 'deny-sessions-issued-before', target: 'arn:aws:iam::111122223333:user/deploy' };
    const user = (inline: string[]) => snapshot([resource({ kind: 'iam:user', region: null, id: 'deploy', detail: { inlinePolicies: inline } })]);
    expect(actionStates([deny], user([]))[0]!.state).toBe('open');
    expect(actionStates([deny], user(['TrailhoundRevokeOlderSessions']))[0]!.state).toBe('done');
    const root = { ...base, step: 'exposed-keys' as const, kind: 'delete-root-access-key', target: 'AKIAROOTKEY000000001' };
    expect(actionStates([root], user([]))[0]!.state).toBe('done');
    const active = { ...user([]), credentialReport: [{ user: '<root_account>', access_key_1_active: 'true', access_key_2_active: 'false' }] };
    expect(actionStates([root], active)[0]).toMatchObject({ state: 'open', evidence: expect.stringMatching(/access_key_1_active/) });
  });
});
