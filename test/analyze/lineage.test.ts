import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import type { AnalyzeResult, LineageNode, PivotSpec } from '../../src/analyze/types.js';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { UsageError } from '../../src/core/errors.js';
import { assumedRoleIdentity, awsJavaDate, iamUserIdentity, iamUserSessionIdentity, makeCall, makeRecord } from '../../synth/records.js';
import type { Store } from '../../src/store/store.js';
import { ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const A = '111122223333';
const B = '444455556666';
const LEAKED = 'AKIAALICELEAKED00001';
const ASIA1 = 'ASIASESSIONONE000001';
const ASIA2 = 'ASIAROLEOPS000000002';
const ASIA3 = 'ASIACROSSACCOUNT0003';
const ATTACKER = '203.0.113.9';
const alice = iamUserIdentity({ account: A, userName: 'alice', accessKeyId: LEAKED });

function at(minute: number): string {
  return new Date(Date.parse('2026-05-01T10:00:00Z') + minute * 60_000).toISOString().replace('.000Z', 'Z');
}

function expiring(minute: number, seconds: number): string {
  return awsJavaDate(new Date(Date.parse(at(minute)) + seconds * 1000));
}

/** AKIA → GetSessionToken → ASIA1 → AssumeRole ops → ASIA2 → AssumeRole into account B → ASIA3. */
function chain(): CloudTrailRecord[] {
  const session1 = iamUserSessionIdentity({ account: A, userName: 'alice', accessKeyId: ASIA1, creationDate: at(1), mfaAuthenticated: false });
  const ops = assumedRoleIdentity({ account: A, roleName: 'ops', sessionName: 'x1', accessKeyId: ASIA2, creationDate: at(2) });
  const cross = assumedRoleIdentity({ account: B, roleName: 'cross', sessionName: 'x2', accessKeyId: ASIA3, creationDate: at(3) });
  const crossAssume = (recipient: string, id: string) =>
    makeRecord('AssumeRole', {
      eventTime: at(3),
      userIdentity: ops,
      sourceIPAddress: ATTACKER,
      recipientAccountId: recipient,
      eventID: id,
      sharedEventID: recipient === B ? '5e4e0000-0000-4000-8000-000000000001' : undefined,
      requestParameters: { roleArn: `arn:aws:iam::${B}:role/cross`, roleSessionName: 'x2', durationSeconds: 3600 },
      responseElements: { credentials: { accessKeyId: ASIA3, expiration: expiring(3, 3600) } },
    });
  return [
    makeRecord('GetCallerIdentity', { eventTime: at(0), userIdentity: alice, sourceIPAddress: ATTACKER }),
    makeRecord('GetSessionToken', {
      eventTime: at(1),
      userIdentity: alice,
      sourceIPAddress: ATTACKER,
      responseElements: { credentials: { accessKeyId: ASIA1, expiration: expiring(1, 43200) } },
    }),
    makeRecord('AssumeRole', {
      eventTime: at(2),
      userIdentity: session1,
      sourceIPAddress: ATTACKER,
      requestParameters: { roleArn: `arn:aws:iam::${A}:role/ops`, roleSessionName: 'x1', durationSeconds: 3600 },
      responseElements: { credentials: { accessKeyId: ASIA2, expiration: expiring(2, 3600) } },
    }),
    crossAssume(A, 'a0000000-0000-4000-8000-00000000000a'),
    crossAssume(B, 'b0000000-0000-4000-8000-00000000000b'),
    makeRecord('ListBuckets', { eventTime: at(4), userIdentity: ops, sourceIPAddress: ATTACKER }),
    makeRecord('RunInstances', { eventTime: at(5), userIdentity: cross, sourceIPAddress: ATTACKER, awsRegion: 'us-west-2', requestParameters: { instanceType: 'p3.16xlarge' } }),
    // Someone else's activity, and a later event so the evidence outlives the one-hour sessions.
    makeRecord('ListBuckets', { eventTime: at(600), userIdentity: iamUserIdentity({ account: A, userName: 'bob' }) }),
  ];
}

async function load(ws: Workspace, store: Store, records: CloudTrailRecord[]): Promise<void> {
  await ingest(store, [ws.write('trail.json', JSON.stringify({ Records: records }))]);
}

function spec(partial: Partial<PivotSpec>): PivotSpec {
  return { keys: [], ips: [], principals: [], sessions: [], ...partial };
}

function flatten(nodes: readonly LineageNode[]): LineageNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

function path(result: AnalyzeResult): string[] {
  return flatten(result.lineage).map((n) => `${'  '.repeat(n.depth)}${n.id}`);
}

describe('analyze: credential lineage', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => {
    ws = w;
    store = s;
  });

  it('follows a key through a session token and two role hops into another account', async () => {
    await load(ws, store, chain());
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    expect(path(result)).toEqual([`key:${LEAKED}`, `  session:${ASIA1}`, `    session:${ASIA2}`, `      session:${ASIA3}`]);
    const [root] = result.lineage;
    expect(root!.eventCount).toBe(2);
    const cross = flatten(result.lineage).find((n) => n.id === `session:${ASIA3}`)!;
    expect(cross.account).toBe(B);
    expect(cross.principalArn).toBe(`arn:aws:sts::${B}:assumed-role/cross/x2`);
    expect(cross.origin).toMatchObject({ eventName: 'AssumeRole', by: `session:${ASIA2}` });
    expect(cross.eventCount).toBe(1);
    expect(cross.usability.status).toBe('expired');
    const first = flatten(result.lineage).find((n) => n.id === `session:${ASIA1}`)!;
    expect(first.usability).toMatchObject({ status: 'usable', expiresAt: '2026-05-01T22:01:00Z' });
    expect(root!.usability.status).toBe('usable');
    expect(result.derivedKeys.map((k) => k.accessKeyId)).toEqual([ASIA1, ASIA2, ASIA3]);
    // Both copies of the cross-account AssumeRole are evidence; each is listed once.
    const ids = result.events.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.events).toHaveLength(7);
    expect(result.events.find((e) => e.eventName === 'RunInstances')).toMatchObject({ credential: `session:${ASIA3}`, account: B, region: 'us-west-2' });
    expect(result.blastRadius.cost.launches).toEqual([{ region: 'us-west-2', instanceType: 'p3.16xlarge', instances: 1, vcpus: 64, gpus: 8 }]);
    expect(result.events.every((e, i) => i === 0 || result.events[i - 1]!.eventTime <= e.eventTime)).toBe(true);
  });

  it('stops at --depth and never follows bob', async () => {
    await load(ws, store, chain());
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED], maxDepth: 1 }));
    expect(path(result)).toEqual([`key:${LEAKED}`, `  session:${ASIA1}`]);
    expect(result.events.some((e) => e.principalArn?.endsWith('/bob'))).toBe(false);
  });

  it('follows a key created for another user, used from another address', async () => {
    const second = 'AKIABACKDOOR00000002';
    const carol = iamUserIdentity({ account: A, userName: 'carol', accessKeyId: second });
    await load(ws, store, [
      makeRecord('CreateAccessKey', {
        eventTime: at(1),
        userIdentity: alice,
        sourceIPAddress: ATTACKER,
        requestParameters: { userName: 'carol' },
        responseElements: { accessKey: { accessKeyId: second, userName: 'carol', status: 'Active' } },
      }),
      makeRecord('ListUsers', { eventTime: at(30), userIdentity: carol, sourceIPAddress: '198.51.100.20' }),
      makeRecord('CreateUser', { eventTime: at(31), userIdentity: carol, sourceIPAddress: '198.51.100.20', requestParameters: { userName: 'svc-backup' } }),
      makeCall('UpdateAccessKey', 'iam.amazonaws.com', {
        eventTime: at(90),
        userIdentity: iamUserIdentity({ account: A, userName: 'admin' }),
        requestParameters: { accessKeyId: second, status: 'Inactive', userName: 'carol' },
      }),
    ]);
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    const key = flatten(result.lineage).find((n) => n.id === `key:${second}`)!;
    expect(key).toMatchObject({ kind: 'access-key', principalArn: `arn:aws:iam::${A}:user/carol`, eventCount: 2 });
    expect(key.usability.status).toBe('deactivated');
    expect(result.events.filter((e) => e.credential === `key:${second}`).map((e) => e.sourceIp)).toEqual(['198.51.100.20', '198.51.100.20']);
    // The user the second key created is followed too, one level further down.
    expect(key.children.map((c) => c.id)).toEqual([`user:${A}:svc-backup`]);
    expect(result.createdPrincipals.map((c) => [c.kind, c.name])).toEqual([
      ['access-key', second],
      ['user', 'svc-backup'],
    ]);
  });

  it('pivots on an address across several principals, and on a CIDR block', async () => {
    const bob = iamUserIdentity({ account: A, userName: 'bob' });
    const role = assumedRoleIdentity({ account: A, roleName: 'deploy', sessionName: 'ci', accessKeyId: 'ASIADEPLOYSESSION001', creationDate: at(0) });
    await load(ws, store, [
      makeRecord('ListBuckets', { eventTime: at(1), userIdentity: alice, sourceIPAddress: ATTACKER }),
      makeRecord('ListUsers', { eventTime: at(2), userIdentity: bob, sourceIPAddress: ATTACKER }),
      makeRecord('DescribeInstances', { eventTime: at(3), userIdentity: role, sourceIPAddress: ATTACKER, awsRegion: 'eu-west-1' }),
      makeRecord('GetSessionToken', {
        eventTime: at(4),
        userIdentity: bob,
        sourceIPAddress: ATTACKER,
        responseElements: { credentials: { accessKeyId: 'ASIABOBSESSION000001', expiration: expiring(4, 3600) } },
      }),
      makeRecord('ListRoles', { eventTime: at(5), userIdentity: iamUserSessionIdentity({ account: A, userName: 'bob', accessKeyId: 'ASIABOBSESSION000001', creationDate: at(4), mfaAuthenticated: false }), sourceIPAddress: '198.51.100.7' }),
      makeRecord('ListBuckets', { eventTime: at(6), userIdentity: bob, sourceIPAddress: '192.0.2.200' }),
    ]);
    for (const ip of [ATTACKER, '203.0.113.0/24']) {
      const result = await analyze(duckdbSource(store), spec({ ips: [ip] }));
      expect(result.eventCount).toBe(4);
      expect(new Set(result.events.filter((e) => e.credential === `ip:${ip}`).map((e) => e.principalArn)).size).toBe(3);
      expect(path(result)).toEqual([`ip:${ip}`, '  session:ASIABOBSESSION000001']);
      expect(result.events.find((e) => e.eventName === 'ListRoles')?.sourceIp).toBe('198.51.100.7');
    }
    await expect(analyze(duckdbSource(store), spec({ ips: ['203.0.113.0/33'] }))).rejects.toBeInstanceOf(UsageError);
  });

  it('is cycle-safe when two keys create each other', async () => {
    const k2 = 'AKIASECONDKEY0000002';
    const bob = iamUserIdentity({ account: A, userName: 'bob', accessKeyId: k2 });
    const create = (by: typeof alice, time: number, key: string, user: string) =>
      makeRecord('CreateAccessKey', {
        eventTime: at(time),
        userIdentity: by,
        requestParameters: { userName: user },
        responseElements: { accessKey: { accessKeyId: key, userName: user, status: 'Active' } },
      });
    await load(ws, store, [create(alice, 1, k2, 'bob'), create(bob, 2, LEAKED, 'alice'), create(bob, 3, k2, 'bob')]);
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    expect(path(result)).toEqual([`key:${LEAKED}`, `  key:${k2}`]);
    expect(result.events).toHaveLength(3);
  });

  it('handles minting calls that failed or whose response was not recorded', async () => {
    await load(ws, store, [
      makeRecord('AssumeRole', {
        eventTime: at(1),
        userIdentity: alice,
        errorCode: 'AccessDenied',
        errorMessage: 'not authorized to perform sts:AssumeRole',
        requestParameters: { roleArn: `arn:aws:iam::${A}:role/admin`, roleSessionName: 'probe' },
      }),
      makeRecord('GetSessionToken', { eventTime: at(2), userIdentity: alice, responseElements: null }),
      makeRecord('AssumeRole', {
        eventTime: at(3),
        userIdentity: alice,
        requestParameters: { roleArn: `arn:aws:iam::${A}:role/ops`, roleSessionName: 'quiet' },
        responseElements: null,
      }),
      makeRecord('ListBuckets', {
        eventTime: at(4),
        userIdentity: assumedRoleIdentity({ account: A, roleName: 'ops', sessionName: 'quiet', accessKeyId: 'ASIAUNSEENKEY0000001', creationDate: at(3) }),
      }),
      makeCall('CreateAccessKey', 'iam.amazonaws.com', { eventTime: at(5), userIdentity: alice, requestParameters: { userName: 'x' }, responseElements: 'not json' as never }),
    ]);
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    expect(result.errorCount).toBe(1);
    expect(result.accessDeniedCount).toBe(1);
    // The redacted AssumeRole is still followed, by its role session name.
    expect(path(result)).toEqual([`key:${LEAKED}`, `  rolesession:arn:aws:iam::${A}:role/ops/quiet`]);
    const session = result.lineage[0]!.children[0]!;
    expect(session).toMatchObject({ eventCount: 1, usability: { status: 'unknown' } });
    expect(result.derivedKeys).toEqual([]);
  });

  it('follows a user given a password and a role trusting an outside account', async () => {
    const trust = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'sts:AssumeRole' }] }));
    await load(ws, store, [
      makeRecord('CreateLoginProfile', { eventTime: at(1), userIdentity: alice, requestParameters: { userName: 'bob' } }),
      makeCall('CreateRole', 'iam.amazonaws.com', { eventTime: at(2), userIdentity: alice, requestParameters: { roleName: 'audit', assumeRolePolicyDocument: trust } }),
      makeRecord('ConsoleLogin', { eventTime: at(10), userIdentity: iamUserIdentity({ account: A, userName: 'bob' }), sourceIPAddress: ATTACKER }),
      makeRecord('ListBuckets', {
        eventTime: at(11),
        userIdentity: assumedRoleIdentity({ account: A, roleName: 'audit', sessionName: 'ext', accessKeyId: 'ASIAEXTERNAL00000001', creationDate: at(11) }),
      }),
    ]);
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    expect(path(result)).toEqual([`key:${LEAKED}`, `  user:${A}:bob`, `  role:arn:aws:iam::${A}:role/audit`]);
    expect(result.createdPrincipals.find((c) => c.kind === 'role')?.detail).toBe(`trusts arn:aws:iam::${B}:root`);
    expect(flatten(result.lineage).map((n) => n.eventCount)).toEqual([2, 1, 1]);
  });

  it('follows a federation token into a console session', async () => {
    const fedKey = 'ASIAFEDERATED0000001';
    const fedArn = `arn:aws:sts::${A}:federated-user/ops-console`;
    const federated = (key: string) => ({ type: 'FederatedUser', principalId: `${A}:ops-console`, arn: fedArn, accountId: A, accessKeyId: key });
    await load(ws, store, [
      makeCall('GetFederationToken', 'sts.amazonaws.com', {
        eventTime: at(1),
        userIdentity: alice,
        sourceIPAddress: ATTACKER,
        requestParameters: { name: 'ops-console', durationSeconds: 43200 },
        responseElements: { credentials: { accessKeyId: fedKey, expiration: expiring(1, 43200) }, federatedUser: { arn: fedArn, federatedUserId: `${A}:ops-console` } },
      }),
      makeCall('GetSigninToken', 'signin.amazonaws.com', { eventTime: at(2), userIdentity: federated(fedKey), sourceIPAddress: ATTACKER }),
      makeRecord('ConsoleLogin', { eventTime: at(3), userIdentity: federated('ASIACONSOLEMINTED001'), sourceIPAddress: ATTACKER }),
      makeRecord('ListBuckets', { eventTime: at(4), userIdentity: federated('ASIACONSOLEMINTED001'), sourceIPAddress: ATTACKER }),
    ]);
    const result = await analyze(duckdbSource(store), spec({ keys: [LEAKED] }));
    expect(path(result)).toEqual([`key:${LEAKED}`, `  session:${fedKey}`, `    console:${fedArn}@${at(2)}`]);
    const nodes = flatten(result.lineage);
    expect(nodes[1]).toMatchObject({ principalArn: fedArn, eventCount: 1 });
    expect(nodes[2]).toMatchObject({ kind: 'console-session', eventCount: 2 });
    expect(nodes[2]!.usability).toMatchObject({ status: 'usable', expiresAt: '2026-05-01T22:02:00Z' });
  });

  it('pivots on a role name, a role session name and a user name', async () => {
    await load(ws, store, chain());
    const role = await analyze(duckdbSource(store), spec({ principals: ['ops'] }));
    expect(role.eventCount).toBe(3);
    expect(path(role)).toEqual(['principal:ops', `  session:${ASIA3}`]);
    const session = await analyze(duckdbSource(store), spec({ sessions: ['x2'] }));
    expect(session.eventCount).toBe(1);
    expect(session.accounts).toEqual([{ name: B, count: 1 }]);
    const byKey = await analyze(duckdbSource(store), spec({ sessions: [ASIA2] }));
    expect(byKey.eventCount).toBe(3);
    const user = await analyze(duckdbSource(store), spec({ principals: ['alice'], maxDepth: 0 }));
    expect(user.eventCount).toBe(3);
    const windowed = await analyze(duckdbSource(store), spec({ principals: [`arn:aws:iam::${A}:user/alice`], since: new Date(at(1)), until: new Date(at(2)), maxDepth: 0 }));
    expect(windowed.eventCount).toBe(1);
    expect(windowed.pivot.since).toBe(at(1));
  });

  it('states coverage, so an empty answer is not read as nothing happened', async () => {
    await load(ws, store, chain());
    const result = await analyze(duckdbSource(store), spec({ keys: ['AKIANEVERSEEN0000000'] }));
    expect(result.eventCount).toBe(0);
    expect(result.lineage[0]).toMatchObject({ eventCount: 0 });
    expect(result.coverage.events).toBe(8);
    expect(result.coverage.accounts).toEqual([A, B]);
    const none = await analyze(duckdbSource(store), spec({ keys: [LEAKED], since: new Date('2027-01-01T00:00:00Z') }));
    expect(none.coverage.events).toBe(0);
    await expect(analyze(duckdbSource(store), spec({}))).rejects.toThrow(/nothing to analyze/);
    await expect(analyze(duckdbSource(store), spec({ keys: ['not-a-key'] }))).rejects.toBeInstanceOf(UsageError);
  });
});
