import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_CALLS } from '../../src/snapshot/calls.js';
import { takeSnapshot, type SnapshotProgress } from '../../src/snapshot/collect.js';
import type { SnapshotDocument, SnapshotResource } from '../../src/snapshot/types.js';
import { FakeAccount } from '../fakes/fake-account.js';
import { useFakeAwsEnv } from '../fakes/http.js';

useFakeAwsEnv();

const fake = new FakeAccount();
let endpoint = '';
beforeAll(async () => {
  endpoint = await fake.start();
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.calls.length = 0;
  fake.denied.clear();
  fake.throttleOnce.clear();
  fake.rejected.clear();
  fake.reportPollsBeforeReady = 2;
});
afterEach(() => {
  // Nothing but the calls the README lists was ever sent.
  expect(fake.calls.map((c) => c.call).filter((c) => !(SNAPSHOT_CALLS as readonly string[]).includes(c))).toEqual([]);
});

const take = (extra: Partial<Parameters<typeof takeSnapshot>[0]> = {}) => takeSnapshot({ endpointUrl: endpoint, region: 'us-east-1', backoffMs: 1, maxAttempts: 3, reportPollMs: 1, ...extra });
const find = (doc: SnapshotDocument, kind: SnapshotResource['kind'], id: string) => doc.resources.find((r) => r.kind === kind && r.id === id);

describe('snapshot against a fake account', () => {
  it('reads IAM, the credential report and every enabled region, paging every list', async () => {
    const progress: SnapshotProgress[] = [];
    const doc = await take({ onProgress: (p) => progress.push(p) });
    expect(doc.gaps).toEqual([]);
    expect(doc.account).toBe('111122223333');
    expect(doc.callerArn).toBe('arn:aws:iam::111122223333:user/responder');
    // Opt-in status recorded; the region not opted in is not read, the opted-in one is.
    expect(doc.regions.find((r) => r.name === 'af-south-1')).toEqual({ name: 'af-south-1', optInStatus: 'not-opted-in', scanned: false });
    expect(doc.regions.find((r) => r.name === 'me-central-1')?.scanned).toBe(true);
    expect(fake.calls.some((c) => c.region === 'af-south-1')).toBe(false);
    // Five users at two a page: all of them.
    expect(doc.resources.filter((r) => r.kind === 'iam:user').map((r) => r.id).sort()).toEqual(['alice', 'backdoor', 'deploy', 'svc-1', 'svc-2']);
    expect(fake.calls.filter((c) => c.call === 'iam:ListUsers')).toHaveLength(3);
    const deploy = find(doc, 'iam:user', 'deploy')!;
    expect(deploy.detail['quarantinePolicies']).toEqual(['arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2']);
    expect(deploy.detail['groups']).toEqual(['deployers']);
    expect(deploy.detail['passwordEnabled']).toBe(false);
    expect(find(doc, 'iam:user', 'alice')!.detail).toMatchObject({ passwordEnabled: true, mfaDevices: ['arn:aws:iam::111122223333:mfa/alice'] });
    expect(find(doc, 'iam:access-key', 'AKIAQ3EGRV7XCIDEPLOY')).toMatchObject({ state: 'Active', detail: { userName: 'deploy', lastUsedService: 'ec2', lastUsedRegion: 'sa-east-1', lastUsedDate: '2026-03-02T11:00:00.000Z' } });
    expect(find(doc, 'iam:access-key', 'AKIAALICEKEY00000001')).toMatchObject({ state: 'Inactive', detail: { lastUsedService: null, lastUsedDate: null } });
    const role = find(doc, 'iam:role', 'ci-deployer')!;
    expect(role.detail['trustPolicy']).toMatchObject({ Statement: [{ Principal: { AWS: 'arn:aws:iam::999988887777:root' } }] });
    expect(role.detail['lastUsedRegion']).toBe('us-east-1');
    expect(role.detail['attachedPolicies']).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess']);
    // The credential report: generated over three polls, then read and parsed.
    expect(fake.calls.filter((c) => c.call === 'iam:GenerateCredentialReport')).toHaveLength(3);
    expect(doc.credentialReport?.map((r) => r['user'])).toEqual(['<root_account>', 'deploy', 'alice', 'backdoor', 'svc-1', 'svc-2']);
    // Regional resources: stopped and terminated instances too, three at two a page.
    expect(doc.resources.filter((r) => r.kind === 'ec2:instance' && r.region === 'sa-east-1').map((r) => `${r.id} ${r.state}`)).toEqual(['i-0123456789abcdef0 running', 'i-0123456789abcdef1 terminated', 'i-0123456789abcdef2 running']);
    expect(find(doc, 'ec2:instance', 'i-0a1b2c3d4e5f60718')).toMatchObject({ state: 'stopped', name: 'web', region: 'us-east-1', type: 't3.micro' });
    expect(find(doc, 'ec2:instance', 'i-0fedcba9876543210')?.region).toBe('me-central-1');
    expect(find(doc, 'ec2:spot-request', 'sir-abcd1234')).toMatchObject({ state: 'active', detail: { instanceId: 'i-0123456789abcdef2' } });
    expect(find(doc, 'ec2:launch-template', 'gpu-miner')?.creator).toBe('arn:aws:iam::111122223333:user/deploy');
    for (const [kind, id] of [
      ['ec2:image', 'ami-0123456789abcdef0'],
      ['ec2:volume', 'vol-0123456789abcdef0'],
      ['ec2:snapshot', 'snap-0123456789abcdef0'],
      ['ec2:key-pair', 'miner'],
      ['autoscaling:group', 'miners'],
      ['ecs:cluster', 'jobs'],
      ['ecr:repository', 'app'],
      ['lambda:function', 'thumbnailer'],
      ['lambda:layer', 'shared'],
      ['lightsail:instance', 'box'],
      ['sagemaker:notebook', 'nb'],
      ['route53domains:domain', 'example-pay.com'],
    ] as const) {
      expect(find(doc, kind, id), `${kind} ${id}`).toBeDefined();
    }
    expect(find(doc, 'lightsail:instance', 'box')).toMatchObject({ state: 'running', createdAt: '2026-03-02T11:33:00.000Z' });
    // Lightsail is not asked where it is not offered (sa-east-1, me-central-1); domains once, from us-east-1.
    expect(fake.calls.filter((c) => c.call === 'lightsail:GetInstances').map((c) => c.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(fake.calls.filter((c) => c.call === 'route53domains:ListDomains').map((c) => c.region)).toEqual(['us-east-1']);
    // Progress per region and service; calls counted.
    expect(progress.find((p) => p.region === 'sa-east-1' && p.service === 'ec2')?.resources).toBe(9);
    expect(progress.find((p) => p.service === 'iam')).toBeDefined();
    expect(doc.calls).toBe(fake.calls.length);
  });

  it('records a service denied in one region as a gap and reads the rest', async () => {
    fake.denied.add('sa-east-1/ec2:DescribeInstances');
    fake.denied.add('lambda:ListFunctions');
    const doc = await take();
    expect(doc.gaps).toContainEqual(expect.objectContaining({ service: 'ec2', region: 'sa-east-1', call: 'ec2:DescribeInstances' }));
    expect(doc.gaps.find((g) => g.call === 'ec2:DescribeInstances')!.reason).toMatch(/access denied.*ec2:DescribeInstances/);
    expect(doc.gaps.filter((g) => g.call === 'lambda:ListFunctions').map((g) => g.region).sort()).toEqual(['eu-west-1', 'me-central-1', 'sa-east-1', 'us-east-1']);
    // The rest of sa-east-1 was read, and us-east-1's instances.
    expect(find(doc, 'ec2:spot-request', 'sir-abcd1234')).toBeDefined();
    expect(find(doc, 'ec2:instance', 'i-0a1b2c3d4e5f60718')).toBeDefined();
    expect(find(doc, 'ec2:instance', 'i-0123456789abcdef0')).toBeUndefined();
  });

  it('retries throttled calls and loses nothing', async () => {
    fake.throttleOnce.add('iam:ListUsers');
    fake.throttleOnce.add('ec2:DescribeInstances');
    fake.throttleOnce.add('ecs:ListClusters');
    fake.throttleOnce.add('lambda:ListFunctions');
    const doc = await take();
    expect(doc.gaps).toEqual([]);
    expect(doc.resources.filter((r) => r.kind === 'iam:user')).toHaveLength(5);
    expect(find(doc, 'ecs:cluster', 'jobs')).toBeDefined();
    expect(find(doc, 'lambda:function', 'thumbnailer')).toBeDefined();
  });

  it('reads only the regions asked for, and falls back when DescribeRegions is denied', async () => {
    fake.denied.add('ec2:DescribeRegions');
    const doc = await take({ regions: ['sa-east-1'] });
    expect(doc.regions).toEqual([{ name: 'sa-east-1', optInStatus: null, scanned: true }]);
    expect(doc.gaps.map((g) => g.call)).toEqual(['ec2:DescribeRegions']);
    expect(new Set(fake.calls.filter((c) => c.call.startsWith('ec2:Describe') && c.call !== 'ec2:DescribeRegions').map((c) => c.region))).toEqual(new Set(['sa-east-1']));
  });

  it('gives up on a credential report that never finishes, as a gap', async () => {
    fake.reportPollsBeforeReady = 100;
    const doc = await take({ reportPolls: 3 });
    expect(doc.credentialReport).toBeNull();
    expect(doc.gaps).toContainEqual(expect.objectContaining({ call: 'iam:GenerateCredentialReport' }));
    expect(doc.gaps.find((g) => g.call === 'iam:GenerateCredentialReport')!.reason).toMatch(/still (STARTED|INPROGRESS) after 3 polls/);
  });

  it('stops with one clear line when AWS rejects the credentials, before any other call', async () => {
    fake.rejected.add('sts:GetCallerIdentity');
    await expect(take()).rejects.toThrow(/AWS rejected the credentials \(InvalidClientTokenId\)/);
    expect(fake.calls.map((c) => c.call)).toEqual(['sts:GetCallerIdentity']);
  });

  it('goes on without the account id when only GetCallerIdentity is denied', async () => {
    fake.denied.add('sts:GetCallerIdentity');
    const doc = await take({ regions: ['us-east-1'] });
    expect(doc.account).toBeNull();
    expect(doc.gaps[0]).toMatchObject({ call: 'sts:GetCallerIdentity' });
    expect(doc.resources.filter((r) => r.kind === 'iam:user')).toHaveLength(5);
  });
});

describe('the README', () => {
  it('lists every call the snapshot makes in its IAM policy', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    for (const call of SNAPSHOT_CALLS) expect(readme, call).toContain(`"${call}"`);
  });
});
