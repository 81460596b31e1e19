import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/remediate/plan.js';
import { renderPlanMarkdown, renderPlanShell } from '../../src/report/plan-renderers.js';
import type { RemediationAction, RemediationPlan } from '../../src/remediate/types.js';
import { CREATED_USER, evidenceEvent, findingOf } from '../helpers/evidence.js';

const actions = (plan: RemediationPlan): RemediationAction[] => plan.steps.flatMap((s) => s.actions);
const CONTAINED = '2026-03-06T12:00:00Z';
const RESPONDER = { principalArn: 'arn:aws:iam::111122223333:user/responder', accessKeyId: 'AKIAEXAMPLERESPOND1', sourceIp: '198.51.100.20', userName: 'responder' };

/** The attacker's key makes a user with a key and admin rights, launches instances and shares a snapshot. */
function incident() {
  const createUser = evidenceEvent('CreateUser', { eventId: 'e-user', eventTime: '2026-03-04T01:00:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { user: { arn: 'arn:aws:iam::111122223333:user/backdoor' } } });
  const createKey = evidenceEvent('CreateAccessKey', { eventId: 'e-key', eventTime: '2026-03-04T01:01:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { accessKey: { accessKeyId: 'AKIAEXAMPLEBACKDOOR', userName: 'backdoor' } } });
  const attach = evidenceEvent('AttachUserPolicy', { eventId: 'e-attach', eventTime: '2026-03-04T01:02:00Z', requestParameters: { userName: 'backdoor', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } });
  const run = evidenceEvent('RunInstances', { eventId: 'e-run', eventTime: '2026-03-04T01:03:00Z', eventSource: 'ec2.amazonaws.com', region: 'sa-east-1', requestParameters: { instanceType: 'p3.16xlarge' }, responseElements: { instancesSet: { items: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }, { instanceId: 'i-0aaaaaaaaaaaaaaa2' }] } } });
  const share = evidenceEvent('ModifySnapshotAttribute', { eventId: 'e-share', eventTime: '2026-03-04T01:04:00Z', eventSource: 'ec2.amazonaws.com', requestParameters: { snapshotId: 'snap-0123456789abcdef0', createVolumePermission: { add: { items: [{ userId: '999988887777' }] } }, attributeType: 'CREATE_VOLUME_PERMISSION' } });
  const events = [createUser, createKey, attach, run, share];
  const findings = [findingOf(createUser, CREATED_USER), ...[createKey, attach, run, share].map((e) => findingOf(e))];
  return { events, findings };
}

const kinds = (plan: RemediationPlan) => Object.fromEntries(actions(plan).filter((a) => a.step !== 'account-hygiene').map((a) => [`${a.kind} ${a.target}`, a.done?.eventId ?? 'open']));

describe('actions the evidence shows done', () => {
  it('are all open when nothing followed', () => {
    const { events, findings } = incident();
    const plan = buildPlan({ findings, events, containedAt: CONTAINED });
    expect(actions(plan).filter((a) => a.done)).toEqual([]);
  });

  it('are marked with the call that did them, by the responder or by the attacker, and the rest stay open', () => {
    const { events, findings } = incident();
    const laterEvents = [
      // The attacker cleans up behind themselves: the key they made is deleted with their own key.
      evidenceEvent('DeleteAccessKey', { eventId: 'c-delkey', eventTime: '2026-03-04T02:00:00Z', requestParameters: { userName: 'backdoor', accessKeyId: 'AKIAEXAMPLEBACKDOOR' } }),
      // The responder detaches the policy and terminates one of the two instances.
      evidenceEvent('DetachUserPolicy', { eventId: 'c-detach', eventTime: '2026-03-05T09:00:00Z', ...RESPONDER, requestParameters: { userName: 'backdoor', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }),
      evidenceEvent('TerminateInstances', { eventId: 'c-term', eventTime: '2026-03-05T09:05:00Z', ...RESPONDER, eventSource: 'ec2.amazonaws.com', region: 'sa-east-1', requestParameters: { instancesSet: { items: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }] } } }),
      // Sharing revoked: the removal shape of the same call.
      evidenceEvent('ModifySnapshotAttribute', { eventId: 'c-unshare', eventTime: '2026-03-05T09:10:00Z', ...RESPONDER, eventSource: 'ec2.amazonaws.com', requestParameters: { snapshotId: 'snap-0123456789abcdef0', createVolumePermission: { remove: { items: [{ userId: '999988887777' }] } }, attributeType: 'CREATE_VOLUME_PERMISSION' } }),
      // A failed deletion of the user does not count.
      evidenceEvent('DeleteUser', { eventId: 'c-deluser', eventTime: '2026-03-05T09:20:00Z', ...RESPONDER, errorCode: 'DeleteConflict', requestParameters: { userName: 'backdoor' } }),
    ];
    const plan = buildPlan({ findings, events, containedAt: CONTAINED, laterEvents });
    expect(kinds(plan)).toMatchObject({
      'deactivate-access-key AKIAEXAMPLEBACKDOOR': 'c-delkey',
      'delete-access-key AKIAEXAMPLEBACKDOOR': 'c-delkey',
      'detach-user-policy backdoor arn:aws:iam::aws:policy/AdministratorAccess': 'c-detach',
      'revoke-snapshot-sharing snap-0123456789abcdef0': 'c-unshare',
      'delete-user arn:aws:iam::111122223333:user/backdoor': 'open',
      // One of two instances terminated: still to do.
      'terminate-instances i-0aaaaaaaaaaaaaaa1 i-0aaaaaaaaaaaaaaa2': 'open',
    });
    const detach = actions(plan).find((a) => a.kind === 'detach-user-policy')!;
    expect(detach.done).toEqual({ eventId: 'c-detach', eventName: 'DetachUserPolicy', eventTime: '2026-03-05T09:00:00Z', actor: RESPONDER.principalArn, sourceIp: RESPONDER.sourceIp });
    // The removal is not read as a new sharing.
    expect(actions(plan).filter((a) => a.kind === 'revoke-snapshot-sharing')).toHaveLength(1);

    const md = renderPlanMarkdown(plan);
    expect(md).toContain('- [x] **detach-user-policy**');
    expect(md).toMatch(/Done in the evidence: DetachUserPolicy at 2026-03-05T09:00:00Z by arn:aws:iam::111122223333:user\/responder from 198\.51\.100\.20/);
    expect(md).toContain('- [ ] **delete-user**');
    expect(md).toContain('4 actions are already done in the evidence');
    expect(renderPlanShell(plan)).toMatch(/#   Done in the evidence: TerminateInstances|#   Done in the evidence: DeleteAccessKey/);
  });

  it('counts only calls after the one the action answers, and the latest status of a key', () => {
    const { events, findings } = incident();
    const before = evidenceEvent('DetachUserPolicy', { eventId: 'c-early', eventTime: '2026-03-04T00:30:00Z', requestParameters: { userName: 'backdoor', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } });
    const inactive = evidenceEvent('UpdateAccessKey', { eventId: 'c-off', eventTime: '2026-03-05T09:00:00Z', ...RESPONDER, requestParameters: { userName: 'backdoor', accessKeyId: 'AKIAEXAMPLEBACKDOOR', status: 'Inactive' } });
    const activeAgain = evidenceEvent('UpdateAccessKey', { eventId: 'c-on', eventTime: '2026-03-05T10:00:00Z', requestParameters: { userName: 'backdoor', accessKeyId: 'AKIAEXAMPLEBACKDOOR', status: 'Active' } });
    const off = kinds(buildPlan({ findings, events, containedAt: CONTAINED, laterEvents: [before, inactive] }));
    expect(off['detach-user-policy backdoor arn:aws:iam::aws:policy/AdministratorAccess']).toBe('open');
    expect(off['deactivate-access-key AKIAEXAMPLEBACKDOOR']).toBe('c-off');
    expect(off['delete-access-key AKIAEXAMPLEBACKDOOR']).toBe('open');
    const on = kinds(buildPlan({ findings, events, containedAt: CONTAINED, laterEvents: [inactive, activeAgain] }));
    expect(on['deactivate-access-key AKIAEXAMPLEBACKDOOR']).toBe('open');
  });

  it('sees the console\'s "Revoke active sessions" on a role as the role\'s sessions revoked', () => {
    const assume = evidenceEvent('AssumeRole', { eventId: 'e-assume', eventTime: '2026-03-04T01:00:00Z', eventSource: 'sts.amazonaws.com', requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/deployer', roleSessionName: 'x' }, responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLESESSION1' } } });
    const revoke = evidenceEvent('PutRolePolicy', { eventId: 'c-revoke', eventTime: '2026-03-05T09:00:00Z', ...RESPONDER, requestParameters: { roleName: 'deployer', policyName: 'AWSRevokeOlderSessions', policyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-05T09:00:00Z"}}}]}' } });
    const plan = buildPlan({ findings: [findingOf(assume)], events: [assume], containedAt: CONTAINED, laterEvents: [revoke] });
    const action = actions(plan).find((a) => a.kind === 'revoke-role-sessions')!;
    expect(action.done?.eventId).toBe('c-revoke');
  });
});

describe('remediate on a store where the responder already acted', () => {
  it('reads the responder\'s calls from the store, though they are not the attacker\'s, and marks those actions done', async () => {
    const { demoStore, PINNED } = await import('../report/demo-store.js');
    const { planFromStore } = await import('../../src/report/from-store.js');
    const { Workspace } = await import('../helpers/workspace.js');
    const { ingest } = await import('../helpers/store.js');
    const { DEMO_FACTS } = await import('../../synth/scenario.js');
    const store = await demoStore();
    const ws = new Workspace();
    try {
      const identity = { type: 'IAMUser', principalId: 'AIDAEXAMPLERESPONDER', arn: `arn:aws:iam::${DEMO_FACTS.account}:user/responder`, accountId: DEMO_FACTS.account, accessKeyId: 'AKIAEXAMPLERESPOND1', userName: 'responder' };
      const call = (id: string, eventName: string, requestParameters: Record<string, unknown>) => ({
        eventVersion: '1.09', userIdentity: identity, eventTime: '2026-03-05T10:00:00Z', eventSource: 'iam.amazonaws.com', eventName, awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.20', userAgent: 'aws-cli/2.15.0', requestParameters, responseElements: null, eventID: id, readOnly: false, eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: DEMO_FACTS.account, eventCategory: 'Management',
      });
      const records = [call('00000000-0000-4000-8000-00000000c001', 'UpdateAccessKey', { userName: 'backup-admin', accessKeyId: 'AKIAQ3EGRV7XBACKUP77', status: 'Inactive' }), call('00000000-0000-4000-8000-00000000c002', 'DeleteLoginProfile', { userName: 'backup-admin' })];
      await ingest(store, [ws.write('cleanup.json', JSON.stringify({ Records: records }))]);
      const plan = await planFromStore(store, { containedAt: PINNED });
      const byKind = Object.fromEntries(actions(plan).map((a) => [`${a.kind} ${a.target}`, a.done?.eventId ?? 'open']));
      expect(byKind['deactivate-access-key AKIAQ3EGRV7XBACKUP77']).toBe('00000000-0000-4000-8000-00000000c001');
      expect(byKind['delete-login-profile backup-admin']).toBe('00000000-0000-4000-8000-00000000c002');
      expect(byKind['delete-user arn:aws:iam::111122223333:user/backup-admin']).toBe('open');
      expect(byKind[`deactivate-access-key ${DEMO_FACTS.leakedKeyId}`]).toBe('open');
    } finally {
      store.close();
      ws.dispose();
    }
  });
});
