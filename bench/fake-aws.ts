/**
 * Minimal local AWS endpoints for the benchmarks (127.0.0.1 only): S3 ListObjectsV2/GetObject
 * with a fixed latency per request, and CloudTrail LookupEvents enforcing 2 requests per
 * second per region. The test suite has fuller fakes with fault injection (test/fakes).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running local endpoint. */
export interface LocalEndpoint {
  readonly url: string;
  /** Request times (ms since start) per SigV4 region, for LookupEvents. */
  readonly lookups: Map<string, number[]>;
  /** Requests refused for going over the rate limit. */
  readonly throttled: () => number;
  stop(): Promise<void>;
}

const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A fake S3 bucket answering every request after `latencyMs` (a stand-in for S3's time to first byte). */
export async function startFakeS3(bucket: string, objects: ReadonlyMap<string, Buffer>, latencyMs: number): Promise<LocalEndpoint> {
  const keys = [...objects.keys()].sort();
  const etags = new Map([...objects].map(([k, b]) => [k, `"${createHash('md5').update(b).digest('hex')}"`]));
  const { server, url } = await listen((req, _body, res) => {
    setTimeout(() => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const [, b, ...rest] = decodeURIComponent(u.pathname).split('/');
      if (b !== bucket) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end('<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>');
        return;
      }
      if (u.searchParams.get('list-type') === '2') {
        const prefix = u.searchParams.get('prefix') ?? '';
        const delimiter = u.searchParams.get('delimiter') ?? '';
        const after = u.searchParams.get('continuation-token') ?? '';
        const entries: string[] = [];
        const commons = new Set<string>();
        for (const key of keys) {
          if (!key.startsWith(prefix)) continue;
          const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
          if (cut >= 0) commons.add(key.slice(0, cut + 1));
          else if (key > after) entries.push(key);
        }
        const page = entries.slice(0, 1000);
        const truncated = entries.length > 1000;
        const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${escape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${truncated}</IsTruncated>${page
          .map((k) => `<Contents><Key>${escape(k)}</Key><LastModified>2026-03-06T00:00:00.000Z</LastModified><ETag>${escape(etags.get(k)!)}</ETag><Size>${objects.get(k)!.length}</Size></Contents>`)
          .join('')}${after ? '' : [...commons].map((c) => `<CommonPrefixes><Prefix>${escape(c)}</Prefix></CommonPrefixes>`).join('')}${truncated ? `<NextContinuationToken>${escape(page.at(-1)!)}</NextContinuationToken>` : ''}</ListBucketResult>`;
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      const key = rest.join('/');
      const body = objects.get(key);
      if (!body) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end('<Error><Code>NoSuchKey</Code><Message>no key</Message></Error>');
        return;
      }
      res.writeHead(200, { 'content-length': body.length, etag: etags.get(key)!, 'content-type': 'application/octet-stream' });
      res.end(body);
    }, latencyMs);
  });
  return { url, lookups: new Map(), throttled: () => 0, stop: () => close(server) };
}

/** A fake CloudTrail serving `pages` pages of events per region, refusing requests over 2 per second per region. */
export async function startFakeCloudTrail(pagesPerRegion: number, events: (region: string, page: number) => unknown[]): Promise<LocalEndpoint> {
  const started = performance.now();
  const lookups = new Map<string, number[]>();
  let throttled = 0;
  const { server, url } = await listen((req, body, res) => {
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers['authorization'] ?? ''))?.[1] ?? 'us-east-1';
    const now = performance.now() - started;
    const seen = lookups.get(region) ?? [];
    const send = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (seen.filter((t) => now - t < 1000).length >= 2) {
      throttled++;
      return send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
    seen.push(now);
    lookups.set(region, seen);
    const input = JSON.parse(body || '{}') as { NextToken?: string };
    const page = input.NextToken ? Number(input.NextToken) : 0;
    send(200, { Events: events(region, page), ...(page + 1 < pagesPerRegion ? { NextToken: String(page + 1) } : {}) });
  });
  return { url, lookups, throttled: () => throttled, stop: () => close(server) };
}

/**
 * Starts the fake S3 in a worker thread, so that serving does not compete with the client on
 * one event loop (the real S3 is elsewhere too).
 */
export async function startFakeS3Worker(bucket: string, objects: ReadonlyMap<string, Buffer>, latencyMs: number): Promise<LocalEndpoint> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'fake-s3', bucket, latencyMs, objects: [...objects] } });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { url: string }) => resolve(m.url));
    worker.once('error', reject);
  });
  return { url, lookups: new Map(), throttled: () => 0, stop: async () => void (await worker.terminate()) };
}

/**
 * Starts the fake CloudTrail in a worker thread with `pagesPerRegion` pages of 50 generated
 * events per region; request times are taken on the worker's own event loop, as AWS's clock
 * is its own. `lookups` and `throttled` are read from the worker when it stops.
 */
export async function startFakeCloudTrailWorker(pagesPerRegion: number): Promise<LocalEndpoint & { collect(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'fake-cloudtrail', pagesPerRegion } });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { url: string }) => resolve(m.url));
    worker.once('error', reject);
  });
  const lookups = new Map<string, number[]>();
  let throttled = 0;
  return {
    url,
    lookups,
    throttled: () => throttled,
    async collect() {
      const stats = await new Promise<{ lookups: Array<[string, number[]]>; throttled: number }>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('stats');
      });
      for (const [region, times] of stats.lookups) lookups.set(region, times);
      throttled = stats.throttled;
    },
    stop: async () => void (await worker.terminate()),
  };
}

const { isMainThread, parentPort, workerData } = await import('node:worker_threads');
const role = isMainThread ? undefined : (workerData as { role?: string } | null)?.role;
if (role === 'fake-s3') {
  const data = workerData as { bucket: string; latencyMs: number; objects: Array<[string, Uint8Array]> };
  const endpoint = await startFakeS3(data.bucket, new Map(data.objects.map(([k, v]) => [k, Buffer.from(v)])), data.latencyMs);
  parentPort?.postMessage({ url: endpoint.url });
}
if (role === 'fake-cloudtrail') {
  const { makeRecord } = await import('../synth/records.js');
  const { Random } = await import('../synth/random.js');
  const rng = new Random(3);
  const data = workerData as { pagesPerRegion: number };
  const endpoint = await startFakeCloudTrail(data.pagesPerRegion, (region, page) =>
    Array.from({ length: 50 }, (_, i) => {
      const time = new Date(Date.now() - 86_400_000 + page * 60_000 + i * 1000);
      const record = makeRecord('DescribeInstances', { eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'), awsRegion: region }, rng);
      return { EventId: record.eventID, EventName: record.eventName, EventTime: time.getTime() / 1000, CloudTrailEvent: JSON.stringify(record) };
    }),
  );
  parentPort?.on('message', () => parentPort?.postMessage({ lookups: [...endpoint.lookups], throttled: endpoint.throttled() }));
  parentPort?.postMessage({ url: endpoint.url });
}
