import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ingestS3Archive } from '../src/sources/s3-archive-source.js';
import { Store } from '../src/store/store.js';
import { buildTrailLayout } from '../synth/layout.js';
import { Random } from '../synth/random.js';
import { makeRecord, type EventName } from '../synth/records.js';
import { startFakeS3Worker } from './fake-aws.js';

/**
 * Objects per second from a local fake S3 (each request answered after a fixed latency, a
 * stand-in for S3's time to first byte): trailhound's parallel fetch against a plain
 * sequential ListObjectsV2 + GetObject loop with the same SDK client, in the same run.
 * Prints figures; never fails on a timing.
 *
 *   npm run bench:s3
 *   npm run bench:s3 -- --objects 4000 --latency-ms 20 --concurrency 32
 */
const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    'latency-ms': { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '32' },
  },
});
const wanted = Number(values.objects);
const latency = Number(values['latency-ms']);
const concurrency = Number(values.concurrency);

process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIABENCHFAKE0000001';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'benchFakeSecret00000000000000000000000000';
process.env['AWS_REGION'] ??= 'us-east-1';
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

// One log file per five minutes per region: `wanted` files of 20 events each.
const regions = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const rng = new Random(42);
const names: EventName[] = ['DescribeInstances', 'GetCallerIdentity', 'DescribeRegions'];
const records = [];
const start = Date.UTC(2026, 2, 2);
const perRegion = Math.ceil(wanted / regions.length);
for (const region of regions) {
  for (let file = 0; file < perRegion; file++) {
    for (let i = 0; i < 20; i++) {
      const time = new Date(start + file * 300_000 + i * 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      records.push(makeRecord(names[i % names.length]!, { eventTime: time, awsRegion: region }, rng));
    }
  }
}
const layout = buildTrailLayout(records, { bucket: 'bench-trail', digests: false });
const objects = new Map(layout.map((o) => [o.key, o.body]));
const bytes = layout.reduce((sum, o) => sum + o.body.length, 0);
const endpoint = await startFakeS3Worker('bench-trail', objects, latency);
const work = mkdtempSync(join(tmpdir(), 'trailhound-s3-bench-'));

try {
  // Baseline: list, then get each object one after the other, hashing and writing it.
  const client = new S3Client({ endpoint: endpoint.url, forcePathStyle: true, region: 'us-east-1' });
  const t0 = performance.now();
  let token: string | undefined;
  const keys: string[] = [];
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'bench-trail', Prefix: 'AWSLogs/', ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const key of keys) {
    const response = await client.send(new GetObjectCommand({ Bucket: 'bench-trail', Key: key }));
    const body = Buffer.from(await response.Body!.transformToByteArray());
    createHash('sha256').update(body).digest('hex');
    const path = join(work, 'sequential', key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
  const sequential = (performance.now() - t0) / 1000;
  client.destroy();

  // trailhound: scoped listing, parallel downloads into the evidence cache, then the bulk load.
  const store = await Store.open(join(work, 'bench.duckdb'));
  let firstFetch = 0;
  let lastFetch = 0;
  const t1 = performance.now();
  const summary = await ingestS3Archive({
    uri: 's3://bench-trail',
    store,
    endpointUrl: endpoint.url,
    cacheDir: join(work, 'cache'),
    concurrency,
    onProgress: (p) => {
      if (p.phase !== 'download') return;
      lastFetch = performance.now();
      if (p.done === 1) firstFetch = lastFetch;
    },
  });
  const total = (performance.now() - t1) / 1000;
  store.close();
  const fetchSeconds = (lastFetch - t1) / 1000;
  void firstFetch;

  const rate = (n: number, s: number) => (n / s).toFixed(0);
  console.log(`S3 fetch from a local fake S3 with ${latency} ms per request: ${layout.length} objects, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${records.length} events`);
  console.log(`  sequential loop (list + get, one at a time)   ${sequential.toFixed(2)} s   ${rate(keys.length, sequential)} objects/s   1.0x`);
  console.log(`  trailhound fetch (concurrency ${concurrency})            ${fetchSeconds.toFixed(2)} s   ${rate(layout.length, fetchSeconds)} objects/s   ${(sequential / fetchSeconds).toFixed(1)}x`);
  console.log(`  trailhound fetch + bulk load                  ${total.toFixed(2)} s   ${rate(layout.length, total)} objects/s   ${(sequential / total).toFixed(1)}x   (${summary.eventsLoaded} events loaded, ${summary.remote.requests} requests)`);
} finally {
  await endpoint.stop();
  rmSync(work, { recursive: true, force: true });
}
