import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestS3Archive } from '../../src/sources/s3-archive-source.js';
import { buildTrailLayout, writeTrailObjectSync, type TrailObject } from '../../synth/layout.js';
import { makeRecord } from '../../synth/records.js';
import type { Store } from '../../src/store/store.js';
import { verifyEvidence } from '../../src/verify/verify.js';
import { formatVerify } from '../../src/cli/verify-command.js';
import { contentHash, digestSignatureValid, parseDigest } from '../../src/verify/digest-chain.js';
import { FakeCloudTrail } from '../fakes/fake-cloudtrail.js';
import { FakeS3 } from '../fakes/fake-s3.js';
import { FakeServer, sendJsonError, serviceOf, useFakeAwsEnv } from '../fakes/http.js';
import { spreadRecords } from '../fakes/data.js';
import { count, ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';
import { makeTestKey, signDigests, type SignedObject, type TestKey } from './signing.js';

const BUCKET = 'trail-bucket';
const RECORDS = spreadRecords({ regions: ['eu-west-1', 'us-east-1'], days: 1, perRegionDay: 40, seed: 5 });
let KEY: TestKey;
let SIGNED: SignedObject[];

beforeAll(() => {
  useFakeAwsEnv();
  KEY = makeTestKey();
  SIGNED = signDigests(buildTrailLayout(RECORDS, { bucket: BUCKET }), KEY);
});

const logs = () => SIGNED.filter((o) => o.kind === 'log');
const digests = () => SIGNED.filter((o) => o.kind === 'digest').sort((a, b) => (a.key < b.key ? -1 : 1));

describe('digest files', () => {
  it('the test signer produces digests whose signatures verify, and a changed byte breaks them', () => {
    const d = digests()[1]!;
    const { content, inflatedSha256 } = parseDigest(d.body);
    expect(digestSignatureValid(content, inflatedSha256, d.metadata!['signature']!, KEY.der)).toBe(true);
    expect(digestSignatureValid({ ...content, digestEndTime: '2026-03-02T23:00:00Z' }, inflatedSha256, d.metadata!['signature']!, KEY.der)).toBe(false);
    expect(digestSignatureValid(content, inflatedSha256, d.metadata!['signature']!, makeTestKey().der)).toBe(false);
    const log = logs()[0]!;
    expect(contentHash(log.body)).toBe(log.sha256);
  });
});

describe('trailhound verify on a local copy (hashes, offline)', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => ((ws = w), (store = s)));

  const writeCopy = (objects: readonly TrailObject[]) => {
    for (const o of objects) writeTrailObjectSync(ws.path('copy'), o.key, o.body);
  };

  it('verifies every log file against the digests and stores the results', async () => {
    writeCopy(SIGNED);
    await ingest(store, [ws.path('copy')]);
    const report = await verifyEvidence({ store });
    expect(report.intact).toBe(true);
    expect(report.logFiles.listed).toBe(logs().length);
    expect(report.logFiles.verified).toBe(logs().length);
    expect(report.digests.total).toBe(digests().length);
    // A local copy has no S3 metadata, so signatures cannot be checked: the hash chain is.
    expect(report.digests.unverified).toBe(digests().length);
    expect(report.problems.filter((p) => p.kind !== 'silent')).toEqual([]);
    expect(await count(store, `select count(*) as n from verify_results where kind = 'log-file' and status = 'verified'`)).toBe(logs().length);
    expect(await count(store, `select count(*) as n from verify_runs`)).toBe(1);
  });

  it('reports a modified log file, a deleted log file, a deleted digest and a file no digest lists', async () => {
    const [changed, deleted] = [logs()[3]!, logs()[7]!];
    const deletedDigest = digests()[2]!;
    writeCopy(SIGNED);
    const records = JSON.parse(gunzipSync(changed.body).toString('utf8')) as { Records: Array<Record<string, unknown>> };
    records.Records[0]!['sourceIPAddress'] = '198.51.100.1';
    writeTrailObjectSync(ws.path('copy'), changed.key, gzipSync(JSON.stringify(records)));
    rmSync(join(ws.path('copy'), deleted.key));
    rmSync(join(ws.path('copy'), deletedDigest.key));
    // A file slipped into the bucket that CloudTrail never delivered.
    const injected = changed.key.replace(/_[A-Za-z0-9]{16}\.json\.gz$/, '_INJECTEDxxxxxxxx.json.gz');
    writeTrailObjectSync(ws.path('copy'), injected, gzipSync(JSON.stringify({ Records: [makeRecord('DescribeInstances', { eventTime: RECORDS[5]!.eventTime!, awsRegion: RECORDS[5]!.awsRegion! })] })));
    await ingest(store, [ws.path('copy')]);

    const report = await verifyEvidence({ store });
    expect(report.intact).toBe(false);
    expect(report.logFiles.modified).toBe(1);
    // The files the deleted digest listed are now in no digest, like the injected one.
    const orphaned = parseDigest(deletedDigest.body).content.logFiles.filter((l) => l.s3Object !== deleted.key).length;
    expect(report.logFiles.notInDigest).toBe(1 + orphaned);
    const missingLogs = report.problems.filter((p) => p.kind === 'log-file' && p.status === 'missing').map((p) => p.uri);
    const deletedDigestLists = parseDigest(deletedDigest.body).content.logFiles.some((l) => l.s3Object === deleted.key);
    expect(missingLogs).toEqual(deletedDigestLists ? [] : [`s3://${BUCKET}/${deleted.key}`]);
    expect(report.problems.find((p) => p.status === 'modified')!.uri).toContain(changed.key);
    expect(report.problems.filter((p) => p.status === 'not-in-digest').map((p) => p.uri)).toContain(join(ws.path('copy'), injected));
    const missingDigest = report.problems.filter((p) => p.kind === 'digest' && p.status === 'missing');
    expect(missingDigest.map((p) => p.uri)).toEqual([`s3://${BUCKET}/${deletedDigest.key}`]);
    const stored = await store.all(`select kind, status from verify_results where status in ('modified', 'missing', 'not-in-digest') order by kind, status`);
    expect(stored.length).toBe(report.problems.filter((p) => ['modified', 'missing', 'not-in-digest'].includes(p.status)).length);
  });

  it('a forged file loaded while the genuine one was away: the store does not match the file the digest vouches for', async () => {
    writeCopy(SIGNED);
    const target = logs()[2]!;
    const path = join(ws.path('copy'), target.key);
    const forged = JSON.parse(gunzipSync(target.body).toString('utf8')) as { Records: Array<Record<string, unknown>> };
    forged.Records[0]!['eventName'] = 'CreateUser';
    writeTrailObjectSync(ws.path('copy'), target.key, gzipSync(JSON.stringify(forged)));
    await ingest(store, [ws.path('copy')]);
    // The genuine file is put back before anyone verifies.
    writeTrailObjectSync(ws.path('copy'), target.key, target.body);
    const report = await verifyEvidence({ store });
    expect(report.intact).toBe(false);
    expect(report.verdict).toBe('not-intact');
    const problem = report.problems.find((p) => p.status === 'modified');
    expect(problem?.uri).toBe(path);
    expect(problem?.detail).toMatch(/^the bytes loaded \(input \d+, sha256 \w{64}\) are not the file now on disk/);
  });

  it('rows changed in the store after the load are found', async () => {
    writeCopy(SIGNED);
    await ingest(store, [ws.path('copy')]);
    await store.run(`update event_rows_0 set record = json_object('eventTime', '2026-03-02T10:00:00Z', 'eventName', 'Nothing') where rowid = 3`);
    const report = await verifyEvidence({ store });
    expect(report.storedRecords.modified).toBe(1);
    expect(report.problems.filter((p) => p.kind === 'store').map((p) => p.status)).toEqual(['modified']);
    expect(report.verdict).toBe('not-intact');
  });

  it('without digests nothing is called intact: it says what could not be checked and why', async () => {
    writeCopy(logs());
    await ingest(store, [ws.path('copy')]);
    const report = await verifyEvidence({ store });
    expect(report.verdict).toBe('not-checked');
    expect(report.unchecked.files).toBe(logs().length);
    expect(formatVerify({ ...report, seconds: 0 })).toMatch(new RegExp(`^Evidence NOT CHECKED: integrity could not be checked for ${logs().length} loaded files`));
    expect(report.notes.join('\n')).toMatch(/from local files that no digest file in the evidence lists \(ingest the trail's CloudTrail-Digest files with them\)/);
  });

  it('finds the logging gap of the bundled demo as a break in the digest chain', async () => {
    await ingest(store, [join(import.meta.dirname, '..', '..', 'fixtures', 'demo')]);
    const report = await verifyEvidence({ store });
    expect(report.intact).toBe(true);
    expect(report.logFiles.verified).toBe(report.logFiles.listed);
    expect(report.logFiles.listed).toBeGreaterThan(400);
    expect(report.digestGaps).toBeGreaterThanOrEqual(1);
    const gap = report.problems.find((p) => p.kind === 'gap')!;
    expect(gap.detail).toMatch(/logging stopped/);
  });
});

describe('trailhound verify after ingest s3:// (signatures with ListPublicKeys)', () => {
  let ws: Workspace;
  let store: Store;
  let s3: FakeS3;
  let cloudtrail: FakeCloudTrail;
  let server: FakeServer;
  let endpoint: string;
  let denyKeys = false;
  sandbox((w, s) => ((ws = w), (store = s)));
  beforeEach(async () => {
    s3 = new FakeS3();
    cloudtrail = new FakeCloudTrail();
    cloudtrail.publicKeys.push({ der: KEY.der, fingerprint: KEY.fingerprint, validFrom: new Date('2026-01-01T00:00:00Z'), validTo: new Date('2026-12-31T00:00:00Z') });
    denyKeys = false;
    server = new FakeServer((req, res) => {
      if (serviceOf(req) !== 'cloudtrail') return s3.handle(req, res);
      if (denyKeys && req.region === 'eu-west-1') return sendJsonError(res, 400, 'AccessDeniedException', 'not authorized to perform cloudtrail:ListPublicKeys');
      return cloudtrail.handle(req, res);
    });
    endpoint = await server.start();
  });
  afterEach(async () => server.stop());

  it('verifies every signature and the hash chain; a forged digest fails', async () => {
    const objects = [...SIGNED];
    // Forge the last digest of us-east-1: drop a log file from its list, keep the old signature.
    const last = digests().filter((d) => d.key.includes('/us-east-1/')).at(-1)!;
    const content = JSON.parse(gunzipSync(last.body).toString('utf8')) as { logFiles: unknown[] };
    content.logFiles = content.logFiles.slice(1);
    objects[objects.findIndex((o) => o.key === last.key)] = { ...last, body: gzipSync(JSON.stringify(content)) };
    for (const o of objects) s3.put(BUCKET, o.key, o.body, o.metadata);

    await ingestS3Archive({ uri: `s3://${BUCKET}`, store, endpointUrl: endpoint, cacheDir: ws.path('cache') });
    const report = await verifyEvidence({ store, endpointUrl: endpoint, fetchKeys: true });
    expect(cloudtrail.seen.filter((r) => String(r.headers['x-amz-target']).endsWith('ListPublicKeys')).length).toBe(2);
    expect(report.digests.signatureOk).toBe(digests().length - 1);
    expect(report.digests.invalid).toBe(1);
    expect(report.problems.filter((p) => p.kind === 'digest')).toEqual([expect.objectContaining({ status: 'signature-invalid', uri: `s3://${BUCKET}/${last.key}` })]);
    // The log file dropped from the forged digest is now in no digest.
    expect(report.logFiles.notInDigest).toBe(1);
    expect(report.logFiles.verified).toBe(logs().length - 1);

    // Without keys, the same evidence has its hashes checked and its signatures left unverified.
    const offline = await verifyEvidence({ store });
    expect(offline.digests.unverified).toBe(digests().length);
    expect(offline.digests.signatureOk).toBe(0);

    // Keys denied in one region: the report says why. (Keys are matched by fingerprint; this test signs every region with one key, so us-east-1's serves both.)
    denyKeys = true;
    const partial = await verifyEvidence({ store, endpointUrl: endpoint, fetchKeys: true, maxAttempts: 1 });
    expect(partial.digests.invalid).toBe(1);
    expect(partial.notes).toContainEqual(expect.stringMatching(/^public keys for eu-west-1 not fetched: access denied .*cloudtrail:ListPublicKeys in eu-west-1/));
  });
});
