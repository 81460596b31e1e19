import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { corpusFileRecords, generateCorpus, planCorpusFile } from '../../synth/corpus.js';
import {
  buildTrailLayout,
  deliveryTime,
  digestObjectKey,
  groupLogFiles,
  trailFileName,
  trailObjectKey,
  writeTrailLayout,
} from '../../synth/layout.js';
import type { TrailObject } from '../../synth/layout.js';
import { Random } from '../../synth/random.js';
import {
  ADMINISTRATOR_ACCESS_ARN,
  EVENT_NAMES,
  accessDenied,
  assumedRoleIdentity,
  awsServiceIdentity,
  eventSpec,
  iamUserIdentity,
  makeRecord,
} from '../../synth/records.js';
import { DEMO_FACTS, LEAKED_KEY_ID, demoScenario } from '../../synth/scenario.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DOC_OR_PRIVATE_IP = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$|^10\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const scratch: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-synth-'));
  scratch.push(dir);
  return dir;
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(root);
  return out.sort();
}

function unzipJson(body: Buffer): Record<string, unknown> {
  return JSON.parse(gunzipSync(body).toString('utf8')) as Record<string, unknown>;
}

function recordsOf(obj: TrailObject): CloudTrailRecord[] {
  const parsed = unzipJson(obj.body);
  expect(Object.keys(parsed)).toEqual(['Records']);
  return parsed.Records as CloudTrailRecord[];
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('Random', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const draw = (r: Random) => [r.nextUint32(), r.uuid(), r.accessKeyId('AKIA'), r.int(1, 6)];
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
  });

  it('makes ids shaped like AWS ids', () => {
    const rng = new Random('shapes');
    for (let i = 0; i < 50; i++) {
      expect(rng.uuid()).toMatch(UUID);
      expect(rng.accessKeyId('AKIA')).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(rng.accessKeyId('ASIA')).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(rng.instanceId()).toMatch(/^i-[0-9a-f]{17}$/);
      expect(rng.s3RequestId()).toMatch(/^[0-9A-F]{16}$/);
      expect(rng.uniqueId('AIDA')).toMatch(/^AIDA[A-Z2-7]{17}$/);
      const n = rng.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
  });
});

describe('makeRecord', () => {
  it('builds every event name with the fields CloudTrail always writes', () => {
    for (const name of EVENT_NAMES) {
      const rec = makeRecord(name);
      const spec = eventSpec(name);
      expect(rec.eventName).toBe(name);
      expect(rec.eventSource).toBe(spec.eventSource);
      expect(rec.eventVersion).toMatch(/^1\.0[89]$/);
      expect(rec.eventID).toMatch(UUID);
      expect(rec.recipientAccountId).toBe('111122223333');
      expect(rec.eventCategory).toBe(spec.category);
      expect(rec.managementEvent).toBe(spec.category === 'Management');
      expect(rec.readOnly).toBe(spec.readOnly);
      expect(rec.eventType).toBe(name === 'ConsoleLogin' ? 'AwsConsoleSignIn' : 'AwsApiCall');
      expect(rec.eventTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(JSON.parse(JSON.stringify(rec))).toEqual(rec);
    }
  });

  it('depends only on its arguments when no generator is given', () => {
    const overrides = { eventTime: '2026-03-03T10:00:00Z', requestParameters: { userName: 'carol' } };
    expect(makeRecord('CreateUser', overrides)).toEqual(makeRecord('CreateUser', overrides));
    expect(makeRecord('CreateUser', overrides).eventID).not.toBe(makeRecord('CreateUser', { ...overrides, eventTime: '2026-03-03T10:00:01Z' }).eventID);
  });

  it('merges overrides deeply and derives dependent fields from them', () => {
    const rec = makeRecord('GetObject', {
      awsRegion: 'eu-west-1',
      requestParameters: { bucketName: 'example-bucket', key: 'a/b.txt' },
      additionalEventData: { bytesTransferredOut: 7 },
    });
    expect(rec.requestParameters).toEqual({ bucketName: 'example-bucket', Host: 'example-bucket.s3.eu-west-1.amazonaws.com', key: 'a/b.txt' });
    expect(rec.additionalEventData?.bytesTransferredOut).toBe(7);
    expect(rec.additionalEventData?.SignatureVersion).toBe('SigV4');
    expect(rec.resources).toEqual([
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::example-bucket/a/b.txt' },
      { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::example-bucket' },
    ]);
    expect(rec.eventCategory).toBe('Data');
    expect(rec.managementEvent).toBe(false);
    expect(rec.requestID).toMatch(/^[0-9A-F]{16}$/);
  });

  it('logs global services in us-east-1 whatever region is asked for', () => {
    expect(makeRecord('CreateUser', { awsRegion: 'eu-west-1' }).awsRegion).toBe('us-east-1');
    expect(makeRecord('DescribeInstances', { awsRegion: 'eu-west-1' }).awsRegion).toBe('eu-west-1');
  });

  it('replaces the identity whole and takes address and agent from an invoking service', () => {
    const rec = makeRecord('AssumeRole', {
      userIdentity: awsServiceIdentity('ec2.amazonaws.com'),
      awsRegion: 'eu-west-1',
      requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/web', roleSessionName: 'i-0123456789abcdef0' },
    });
    expect(rec.userIdentity).toEqual({ type: 'AWSService', invokedBy: 'ec2.amazonaws.com' });
    expect(rec.sourceIPAddress).toBe('ec2.amazonaws.com');
    expect(rec.userAgent).toBe('ec2.amazonaws.com');
    expect(rec.tlsDetails).toBeUndefined();
    expect(rec.resources).toEqual([{ accountId: '111122223333', type: 'AWS::IAM::Role', ARN: 'arn:aws:iam::111122223333:role/web' }]);
    const response = rec.responseElements as { credentials: { accessKeyId: string }; assumedRoleUser: { arn: string } };
    expect(response.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(response.assumedRoleUser.arn).toBe('arn:aws:sts::111122223333:assumed-role/web/i-0123456789abcdef0');
  });

  it('shapes role sessions with their issuer', () => {
    const identity = assumedRoleIdentity({
      account: '444455556666',
      roleName: 'deployer',
      sessionName: 'build-7',
      accessKeyId: 'ASIAEXAMPLEEXAMPLE22',
      creationDate: '2026-03-02T09:00:00Z',
    });
    const rec = makeRecord('ListUsers', { userIdentity: identity });
    expect(rec.recipientAccountId).toBe('444455556666');
    expect(rec.userIdentity?.sessionContext?.sessionIssuer?.arn).toBe('arn:aws:iam::444455556666:role/deployer');
    expect(rec.userIdentity?.principalId).toMatch(/^AROA[A-Z2-7]{17}:build-7$/);
  });

  it('nulls the response of a failed call and words the error per service', () => {
    const who = iamUserIdentity({ account: '111122223333', userName: 'mallory' });
    const denied = makeRecord('ListRoles', { userIdentity: who, ...accessDenied('ListRoles', who) });
    expect(denied.errorCode).toBe('AccessDenied');
    expect(denied.errorMessage).toContain('iam:ListRoles');
    expect(denied.responseElements).toBeNull();
    expect(accessDenied('DescribeInstances', who).errorCode).toBe('Client.UnauthorizedOperation');
    expect(accessDenied('ListFunctions20150331', who).errorMessage).toContain('lambda:ListFunctions ');
    const failed = makeRecord('RunInstances', { errorCode: 'Client.VcpuLimitExceeded', errorMessage: 'limit' });
    expect(failed.responseElements).toBeNull();
    expect(Object.keys(failed).indexOf('errorCode')).toBeLessThan(Object.keys(failed).indexOf('requestParameters'));
  });

  it('returns launched instances as EC2 does', () => {
    const rec = makeRecord('RunInstances', {
      awsRegion: 'sa-east-1',
      requestParameters: { instanceType: 'p3.8xlarge', instancesSet: { items: [{ imageId: 'ami-0abc', minCount: 2, maxCount: 2 }] } },
    });
    const items = (rec.responseElements as { instancesSet: { items: Array<Record<string, unknown>> } }).instancesSet.items;
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item.instanceId).toMatch(/^i-[0-9a-f]{17}$/);
      expect(item.instanceType).toBe('p3.8xlarge');
      expect(item.placement).toEqual({ availabilityZone: 'sa-east-1a', tenancy: 'default' });
    }
  });

  it('writes IAM and STS dates the way those services do', () => {
    const key = makeRecord('CreateAccessKey', { eventTime: '2026-03-04T14:05:09Z', requestParameters: { userName: 'x' } });
    expect(key.responseElements).toMatchObject({ accessKey: { userName: 'x', status: 'Active', createDate: 'Mar 4, 2026, 2:05:09 PM' } });
    const token = makeRecord('GetSessionToken', { eventTime: '2026-03-04T00:30:00Z', requestParameters: { durationSeconds: 3600 } });
    expect(token.responseElements).toMatchObject({ credentials: { expiration: 'Mar 4, 2026, 1:30:00 AM' } });
  });
});

describe('demoScenario', () => {
  const records = demoScenario();
  const attackerIps: readonly string[] = DEMO_FACTS.attackerIps;
  const byName = (name: string) => records.filter((r) => r.eventName === name);
  const keyOf = (r: CloudTrailRecord) => r.userIdentity?.accessKeyId;

  it('is the same on every call and sorted by time and event id', () => {
    expect(JSON.stringify(demoScenario())).toBe(JSON.stringify(records));
    for (let i = 1; i < records.length; i++) {
      const a = records[i - 1] as CloudTrailRecord;
      const b = records[i] as CloudTrailRecord;
      expect(`${a.eventTime} ${a.eventID}` <= `${b.eventTime} ${b.eventID}`).toBe(true);
    }
    expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);
  });

  it('stays inside the demo account, period and documentation address ranges', () => {
    for (const r of records) {
      expect(r.recipientAccountId).toBe(DEMO_FACTS.account);
      expect(r.eventTime! >= DEMO_FACTS.start && r.eventTime! < DEMO_FACTS.end).toBe(true);
      const ip = r.sourceIPAddress ?? '';
      expect(ip.endsWith('.amazonaws.com') || DOC_OR_PRIVATE_IP.test(ip)).toBe(true);
    }
  });

  it('matches the counts in DEMO_FACTS', () => {
    const c = DEMO_FACTS.counts;
    expect(records).toHaveLength(c.total);
    expect(records.filter((r) => r.eventCategory === 'Management')).toHaveLength(c.management);
    expect(records.filter((r) => r.eventCategory === 'Data')).toHaveLength(c.data);
    expect(records.filter((r) => r.errorCode)).toHaveLength(c.errors);
    expect(records.filter((r) => keyOf(r) === LEAKED_KEY_ID)).toHaveLength(c.byLeakedKey);
    expect(records.filter((r) => keyOf(r) === LEAKED_KEY_ID && attackerIps.includes(r.sourceIPAddress ?? ''))).toHaveLength(c.byLeakedKeyFromAttackerIps);
    expect(records.filter((r) => keyOf(r) === DEMO_FACTS.mintedKeyId)).toHaveLength(c.byMintedKey);
    expect(records.filter((r) => r.userIdentity?.userName === DEMO_FACTS.createdUser)).toHaveLength(c.byCreatedUser);
    expect(records.filter((r) => attackerIps.includes(r.sourceIPAddress ?? ''))).toHaveLength(c.fromAttackerIps);
  });

  it('uses the leaked key from CI first and from the attacker only from the stated time', () => {
    const leaked = records.filter((r) => keyOf(r) === LEAKED_KEY_ID);
    expect(leaked[0]?.userIdentity?.userName).toBe(DEMO_FACTS.leakedUser);
    expect(attackerIps).not.toContain(leaked[0]?.sourceIPAddress);
    const hostile = records.filter((r) => attackerIps.includes(r.sourceIPAddress ?? ''));
    expect(hostile[0]?.eventTime).toBe(DEMO_FACTS.firstAttackerEventTime);
    expect(hostile[0]?.sourceIPAddress).toBe(DEMO_FACTS.attackerIp);
    expect(keyOf(hostile[0]!)).toBe(LEAKED_KEY_ID);
    for (const r of hostile) {
      const k = keyOf(r);
      const ours = k === LEAKED_KEY_ID || k === DEMO_FACTS.mintedKeyId || r.userIdentity?.userName === DEMO_FACTS.createdUser;
      expect(ours).toBe(true);
    }
  });

  it('mints a session key with the leaked key and then uses it', () => {
    const [minting] = byName('GetSessionToken');
    expect(keyOf(minting!)).toBe(LEAKED_KEY_ID);
    const creds = (minting!.responseElements as { credentials: { accessKeyId: string; sessionToken: string; expiration: string } }).credentials;
    expect(creds.accessKeyId).toBe(DEMO_FACTS.mintedKeyId);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.sessionToken.length).toBeGreaterThan(100);
    const uses = records.filter((r) => keyOf(r) === DEMO_FACTS.mintedKeyId);
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) {
      expect(use.eventTime! > minting!.eventTime!).toBe(true);
      expect(use.userIdentity?.type).toBe('IAMUser');
      expect(use.userIdentity?.sessionContext?.attributes?.creationDate).toBe(minting!.eventTime);
    }
  });

  it('creates the backdoor user, its key, console password and admin policy, then uses them', () => {
    const user = DEMO_FACTS.createdUser;
    const created = byName('CreateUser');
    expect(created.map((r) => r.requestParameters?.userName)).toEqual([user]);
    const [key] = byName('CreateAccessKey');
    expect(key!.responseElements).toMatchObject({ accessKey: { userName: user, accessKeyId: DEMO_FACTS.createdKeyId, status: 'Active' } });
    expect(DEMO_FACTS.createdKeyId).toMatch(/^AKIA/);
    const [attach] = byName('AttachUserPolicy');
    expect(attach!.requestParameters).toEqual({ userName: user, policyArn: ADMINISTRATOR_ACCESS_ARN });
    expect(byName('CreateLoginProfile').map((r) => r.requestParameters?.userName)).toEqual([user]);
    const uses = records.filter((r) => keyOf(r) === DEMO_FACTS.createdKeyId);
    expect(uses[0]?.eventTime).toBe(DEMO_FACTS.createdKeyFirstUseTime);
    expect(uses.some((r) => r.eventName === 'GetObject')).toBe(true);
    const logins = byName('ConsoleLogin').filter((r) => r.userIdentity?.userName === user);
    expect(logins).toHaveLength(1);
    expect(logins[0]!.additionalEventData?.MFAUsed).toBe('No');
  });

  it('launches instances in at least three regions, one attempt failing on the vCPU limit', () => {
    const launches = byName('RunInstances').filter((r) => attackerIps.includes(r.sourceIPAddress ?? ''));
    const ok = launches.filter((r) => !r.errorCode);
    expect([...new Set(ok.map((r) => r.awsRegion))].sort()).toEqual([...DEMO_FACTS.regionsLaunched]);
    expect(DEMO_FACTS.regionsLaunched.length).toBeGreaterThanOrEqual(3);
    expect([...new Set(ok.map((r) => r.requestParameters?.instanceType))].sort()).toEqual([...DEMO_FACTS.instanceTypesLaunched]);
    const instances = ok.flatMap((r) => (r.responseElements as { instancesSet: { items: unknown[] } }).instancesSet.items);
    expect(instances).toHaveLength(DEMO_FACTS.instancesLaunched);
    const failed = launches.filter((r) => r.errorCode);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      awsRegion: DEMO_FACTS.failedLaunch.region,
      errorCode: DEMO_FACTS.failedLaunch.errorCode,
      responseElements: null,
      requestParameters: { instanceType: DEMO_FACTS.failedLaunch.instanceType },
    });
    const discovered = byName('DescribeInstances').filter((r) => keyOf(r) === LEAKED_KEY_ID && attackerIps.includes(r.sourceIPAddress ?? ''));
    expect([...new Set(discovered.map((r) => r.awsRegion))].sort()).toEqual([...DEMO_FACTS.regionsDiscovered]);
  });

  it('stops the trail and records nothing until logging is started again', () => {
    const [stop] = byName('StopLogging');
    const [start] = byName('StartLogging');
    expect(stop).toMatchObject({ eventTime: DEMO_FACTS.stopLoggingTime, sourceIPAddress: DEMO_FACTS.attackerIp, requestParameters: { name: DEMO_FACTS.trailArn } });
    expect(start).toMatchObject({ eventTime: DEMO_FACTS.startLoggingTime, requestParameters: { name: DEMO_FACTS.trailArn } });
    const inGap = records.filter((r) => r.eventTime! > DEMO_FACTS.stopLoggingTime && r.eventTime! < DEMO_FACTS.startLoggingTime);
    expect(inGap).toEqual([]);
  });

  it('carries the hostile strings a renderer must escape', () => {
    const agents = new Set(records.map((r) => r.userAgent));
    for (const agent of DEMO_FACTS.hostileUserAgents) expect(agents.has(agent)).toBe(true);
    expect(DEMO_FACTS.hostileUserAgents.some((a) => a.includes('<script>alert(1)</script>'))).toBe(true);
    expect(DEMO_FACTS.hostileUserAgents.some((a) => a.startsWith('=cmd|'))).toBe(true);
    expect(JSON.stringify(records)).toContain(JSON.stringify(DEMO_FACTS.hostileTagValue));
  });

  it('has denied discovery calls with code and message', () => {
    const denied = records.filter((r) => r.errorCode === 'AccessDenied');
    expect(denied.length).toBeGreaterThanOrEqual(2);
    for (const r of denied) expect(r.errorMessage).toContain('is not authorized to perform');
  });
});

describe('layout', () => {
  it('names log and digest files as CloudTrail does', () => {
    const loc = { account: '111122223333', region: 'eu-west-1', deliveredAt: new Date('2026-03-04T02:15:00Z'), suffix: 'AbCdEfGh12345678' };
    expect(trailFileName(loc)).toBe('111122223333_CloudTrail_eu-west-1_20260304T0215Z_AbCdEfGh12345678.json.gz');
    expect(trailObjectKey(loc)).toBe(
      'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/04/111122223333_CloudTrail_eu-west-1_20260304T0215Z_AbCdEfGh12345678.json.gz',
    );
    expect(trailObjectKey({ ...loc, orgId: 'o-exampleorgid' })).toMatch(/^AWSLogs\/o-exampleorgid\/111122223333\/CloudTrail\/eu-west-1\//);
    expect(
      digestObjectKey({
        account: '111122223333',
        region: 'sa-east-1',
        trailName: 'management-events',
        homeRegion: 'us-east-1',
        endTime: new Date('2026-03-04T03:01:31Z'),
      }),
    ).toBe(
      'AWSLogs/111122223333/CloudTrail-Digest/sa-east-1/2026/03/04/111122223333_CloudTrail-Digest_sa-east-1_management-events_us-east-1_20260304T030131Z.json.gz',
    );
  });

  it('puts each event in the five-minute window that ends after it', () => {
    expect(deliveryTime('2026-03-04T02:10:00Z').toISOString()).toBe('2026-03-04T02:15:00.000Z');
    expect(deliveryTime('2026-03-04T02:14:59Z').toISOString()).toBe('2026-03-04T02:15:00.000Z');
    const a = makeRecord('DescribeInstances', { eventTime: '2026-03-04T02:11:00Z', awsRegion: 'eu-west-1' });
    const b = makeRecord('DescribeInstances', { eventTime: '2026-03-04T02:12:00Z', awsRegion: 'eu-west-1' });
    const c = makeRecord('DescribeInstances', { eventTime: '2026-03-04T02:12:00Z', awsRegion: 'us-west-2' });
    const d = makeRecord('DescribeInstances', { eventTime: '2026-03-04T02:16:00Z', awsRegion: 'eu-west-1' });
    const groups = groupLogFiles([a, b, c, d]);
    expect(groups.map((g) => [g.region, g.deliveredAt.toISOString(), g.records.length])).toEqual([
      ['eu-west-1', '2026-03-04T02:15:00.000Z', 2],
      ['eu-west-1', '2026-03-04T02:20:00.000Z', 1],
      ['us-west-2', '2026-03-04T02:15:00.000Z', 1],
    ]);
  });

  const records = demoScenario();
  const objects = buildTrailLayout(records);
  const logs = objects.filter((o) => o.kind === 'log');
  const digests = objects.filter((o) => o.kind === 'digest');

  it('writes every record once into gzipped {"Records":[…]} files that match their key', () => {
    const keyPattern = /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[0-9A-Za-z]{16}\.json\.gz$/;
    let total = 0;
    for (const obj of logs) {
      const m = keyPattern.exec(obj.key);
      expect(m, obj.key).not.toBeNull();
      const recs = recordsOf(obj);
      total += recs.length;
      for (const r of recs) {
        expect(r.recipientAccountId).toBe(m![1]);
        expect(r.awsRegion).toBe(m![2]);
        const delivered = deliveryTime(r.eventTime!);
        expect(`${m![3]}${m![4]}${m![5]}`).toBe(delivered.toISOString().slice(0, 10).replace(/-/g, ''));
      }
      expect(createHash('sha256').update(gunzipSync(obj.body)).digest('hex')).toBe(obj.sha256);
    }
    expect(total).toBe(records.length);
    expect(new Set(logs.map((o) => o.key)).size).toBe(logs.length);
  });

  it('chains hourly digests that hash the log files, and breaks the chain while logging is stopped', () => {
    const hashes = new Map(logs.map((o) => [o.key, o.sha256]));
    const listed = new Set<string>();
    const digestByKey = new Map(digests.map((d) => [d.key, d]));
    let starts = 0;
    for (const obj of digests) {
      const digest = unzipJson(obj.body);
      expect(digest.digestS3Object).toBe(obj.key);
      expect(digest.digestSignatureAlgorithm).toBe('SHA256withRSA');
      expect(digest.awsAccountId).toBe(DEMO_FACTS.account);
      for (const f of digest.logFiles as Array<Record<string, unknown>>) {
        expect(f.hashAlgorithm).toBe('SHA-256');
        expect(f.hashValue).toBe(hashes.get(f.s3Object as string));
        listed.add(f.s3Object as string);
      }
      if (digest.previousDigestS3Object === null) {
        starts++;
        expect(digest.previousDigestHashValue).toBeNull();
      } else {
        const previous = digestByKey.get(digest.previousDigestS3Object as string);
        expect(previous, String(digest.previousDigestS3Object)).toBeDefined();
        expect(digest.previousDigestHashValue).toBe(previous!.sha256);
        expect(String(digest.previousDigestSignature)).toMatch(/^[0-9a-f]{512}$/);
      }
    }
    expect(listed).toEqual(new Set(hashes.keys()));
    const regions = [...new Set(logs.map((o) => o.key.split('/')[3]))];
    expect(starts).toBe(regions.length * 2);
    for (const region of regions) {
      const whileStopped = digests
        .filter((d) => d.key.split('/')[3] === region)
        .map((d) => unzipJson(d.body))
        .filter((d) => String(d.digestEndTime) > DEMO_FACTS.stopLoggingTime && String(d.digestEndTime) < DEMO_FACTS.startLoggingTime);
      expect(whileStopped, region).toHaveLength(1);
    }
  });

  it('writes the same bytes to disk every time', async () => {
    const small = records.slice(0, 200);
    const [one, two] = [tempDir(), tempDir()];
    const summary = await writeTrailLayout(one, small);
    await writeTrailLayout(two, small);
    const files = listFiles(one);
    expect(files).toEqual(listFiles(two));
    expect(files).toHaveLength(summary.logFiles + summary.digestFiles);
    for (const file of files) expect(readFileSync(join(one, file)).equals(readFileSync(join(two, file)))).toBe(true);
  });
});

describe('corpus', () => {
  it('streams a deterministic corpus with distinct event ids', async () => {
    const out = tempDir();
    const result = await generateCorpus({ events: 3001, files: 6, out, seed: 7, workers: 1 });
    expect(result).toMatchObject({ files: 6, events: 3001, workers: 1 });
    const files = listFiles(out);
    expect(files).toHaveLength(6);
    const ids = new Set<string>();
    let total = 0;
    for (const file of files) {
      const body = readFileSync(join(out, file));
      const recs = (unzipJson(body).Records as CloudTrailRecord[]);
      total += recs.length;
      for (const r of recs) ids.add(r.eventID!);
      const region = file.split('/')[3];
      expect(recs.every((r) => r.awsRegion === region)).toBe(true);
    }
    expect(total).toBe(3001);
    expect(ids.size).toBe(3001);
    expect(result.uncompressedBytes / result.events).toBeGreaterThan(900);
    const plan = planCorpusFile(2, { events: 3001, files: 6, out, seed: 7 });
    expect(corpusFileRecords(plan, 7)).toEqual(corpusFileRecords(plan, 7));
    await expect(generateCorpus({ events: 10, files: 1, out, workers: 1 })).rejects.toThrow(/already exists/);
  });
});
