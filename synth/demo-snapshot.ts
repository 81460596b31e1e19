/**
 * The account as a responder's snapshot saw it the morning after the demo incident, after a
 * partial cleanup: the leaked key deactivated and AWS's quarantine policy on its user, the
 * instances in us-east-1 terminated; the attacker's user, its key and password, and the
 * instances in ap-southeast-1 and sa-east-1 still there, and an instance in eu-north-1 that no
 * event explains (it was launched while logging was stopped, in a region the logs never show).
 * Lightsail could not be read in one region: a gap. Built from the scenario's own records.
 */
import { DEFAULT_REGIONS } from '../src/sources/regions.js';
import type { SnapshotDocument, SnapshotResource } from '../src/snapshot/types.js';
import type { CloudTrailRecord } from '../src/core/record.js';
import { ADMINISTRATOR_ACCESS_ARN } from './records.js';
import { DEMO_ACCOUNT, DEMO_FACTS } from './scenario.js';

export const DEMO_SNAPSHOT_TIME = '2026-03-06T09:00:00.000Z';
const QUARANTINE = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2';
/** Launched during the logging gap, in a region the logs never show. */
export const DEMO_HIDDEN_INSTANCE = { id: 'i-0e5b4d2c1a9f87361', region: 'eu-north-1', type: 'c5.24xlarge', launched: '2026-03-04T04:12:00.000Z' };

const row = (r: Pick<SnapshotResource, 'kind' | 'region' | 'id'> & Partial<SnapshotResource>): SnapshotResource => ({ arn: null, name: null, state: null, type: null, createdAt: null, creator: null, tags: {}, detail: {}, ...r });

/** The instances the attacker launched, by region, from the scenario's successful RunInstances. */
function launched(records: readonly CloudTrailRecord[]): Array<{ id: string; region: string; type: string; time: string }> {
  return records
    .filter((r) => r.eventName === 'RunInstances' && !r.errorCode)
    .flatMap((r) => {
      const items = ((r.responseElements as { instancesSet?: { items?: Array<{ instanceId?: string }> } } | null)?.instancesSet?.items ?? []);
      const type = String((r.requestParameters as { instanceType?: string } | null)?.instanceType ?? '');
      return items.filter((i) => i.instanceId).map((i) => ({ id: i.instanceId!, region: r.awsRegion ?? '', type, time: r.eventTime ?? '' }));
    });
}

export function demoSnapshot(records: readonly CloudTrailRecord[]): SnapshotDocument {
  const arn = (path: string) => `arn:aws:iam::${DEMO_ACCOUNT}:${path}`;
  const user = (name: string, created: string, detail: Record<string, unknown>) =>
    row({ kind: 'iam:user', region: null, id: name, arn: arn(`user/${name}`), name, state: 'exists', createdAt: created, detail: { passwordEnabled: false, mfaDevices: [], groups: [], attachedPolicies: [], inlinePolicies: [], quarantinePolicies: [], ...detail } });
  const key = (id: string, userName: string, state: string, created: string, lastUsed: string | null) =>
    row({ kind: 'iam:access-key', region: null, id, name: userName, state, createdAt: created, detail: { userName, userArn: arn(`user/${userName}`), lastUsedDate: lastUsed, lastUsedService: lastUsed ? 'ec2' : null, lastUsedRegion: lastUsed ? 'us-east-1' : null } });
  const resources: SnapshotResource[] = [
    user('alice', '2024-05-01T08:00:00.000Z', { passwordEnabled: true, mfaDevices: [arn('mfa/alice')], groups: ['admins'] }),
    user('bob', '2024-09-12T10:00:00.000Z', { passwordEnabled: true, mfaDevices: [arn('mfa/bob')], groups: ['developers'] }),
    user('ci-deploy', '2025-01-10T09:00:00.000Z', { attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEC2FullAccess', QUARANTINE], quarantinePolicies: [QUARANTINE], accessKeys: [DEMO_FACTS.leakedKeyId] }),
    user(DEMO_FACTS.createdUser, '2026-03-04T01:55:53.000Z', { passwordEnabled: true, attachedPolicies: [ADMINISTRATOR_ACCESS_ARN], accessKeys: [DEMO_FACTS.createdKeyId] }),
    // The responder deactivated the leaked key; the attacker's own key is still Active.
    key(DEMO_FACTS.leakedKeyId, 'ci-deploy', 'Inactive', '2025-01-10T09:05:00.000Z', '2026-03-05T23:40:00.000Z'),
    key(DEMO_FACTS.createdKeyId, DEMO_FACTS.createdUser, 'Active', '2026-03-04T01:56:43.000Z', '2026-03-05T03:25:00.000Z'),
    row({ kind: 'iam:role', region: null, id: 'app-server-role', arn: arn('role/app-server-role'), name: 'app-server-role', state: 'exists', createdAt: '2024-06-01T00:00:00.000Z', detail: { path: '/', trustPolicy: { Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }, attachedPolicies: [], inlinePolicies: ['app-bucket-access'] } }),
    row({ kind: 'iam:role', region: null, id: 'thumbnailer-lambda-role', arn: arn('role/thumbnailer-lambda-role'), name: 'thumbnailer-lambda-role', state: 'exists', createdAt: '2024-06-01T00:00:00.000Z', detail: { path: '/', attachedPolicies: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'], inlinePolicies: [] } }),
    row({ kind: 'iam:role', region: null, id: 'AWSServiceRoleForSupport', arn: arn('role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport'), name: 'AWSServiceRoleForSupport', state: 'exists', createdAt: '2024-01-01T00:00:00.000Z', detail: { path: '/aws-service-role/support.amazonaws.com/', attachedPolicies: [], inlinePolicies: [] } }),
    row({ kind: 'lambda:function', region: 'eu-west-1', id: 'thumbnailer', arn: `arn:aws:lambda:eu-west-1:${DEMO_ACCOUNT}:function:thumbnailer`, name: 'thumbnailer', state: 'Active', type: 'nodejs20.x', detail: { lastModified: '2025-11-20T10:00:00.000Z', role: arn('role/thumbnailer-lambda-role') } }),
  ];
  // us-east-1 cleaned up; ap-southeast-1 still running; sa-east-1 stopped but there.
  const stateIn: Record<string, string> = { 'us-east-1': 'terminated', 'ap-southeast-1': 'running', 'sa-east-1': 'stopped' };
  for (const i of launched(records)) {
    resources.push(row({ kind: 'ec2:instance', region: i.region, id: i.id, state: stateIn[i.region] ?? 'running', type: i.type, createdAt: new Date(i.time).toISOString(), detail: { imageId: 'ami-09a3e7c1d5f2b8046', keyName: null } }));
  }
  const h = DEMO_HIDDEN_INSTANCE;
  resources.push(row({ kind: 'ec2:instance', region: h.region, id: h.id, state: 'running', type: h.type, createdAt: h.launched, detail: { imageId: 'ami-09a3e7c1d5f2b8046', keyName: null } }));
  return {
    format: 'trailhound-snapshot',
    version: 1,
    id: '20260306T090000Z-demo01',
    takenAt: DEMO_SNAPSHOT_TIME,
    finishedAt: '2026-03-06T09:01:12.000Z',
    durationMs: 72_000,
    account: DEMO_ACCOUNT,
    callerArn: arn('user/alice'),
    toolVersion: 'demo',
    calls: 612,
    regions: [
      ...DEFAULT_REGIONS.map((name) => ({ name, optInStatus: 'opt-in-not-required', scanned: true })),
      ...['af-south-1', 'ap-east-1', 'me-south-1'].map((name) => ({ name, optInStatus: 'not-opted-in', scanned: false })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    resources,
    gaps: [{ service: 'lightsail', region: 'eu-west-2', call: 'lightsail:GetInstances', reason: 'access denied (AccessDeniedException): the credentials lack lightsail:GetInstances' }],
    credentialReport: [
      { user: '<root_account>', arn: arn('root'), password_enabled: 'not_supported', mfa_active: 'true', access_key_1_active: 'false', access_key_2_active: 'false' },
      ...['alice', 'bob', 'ci-deploy', DEMO_FACTS.createdUser].map((name) => ({ user: name, arn: arn(`user/${name}`), password_enabled: name === 'ci-deploy' ? 'false' : 'true', mfa_active: name === 'alice' || name === 'bob' ? 'true' : 'false', access_key_1_active: name === DEMO_FACTS.createdUser ? 'true' : 'false', access_key_2_active: 'false' })),
    ],
  };
}
