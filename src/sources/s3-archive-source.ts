/**
 * `ingest s3://bucket[/prefix]`: lists only the trail prefixes inside the scope, downloads
 * the objects in parallel into the evidence cache (skipping those already ingested, by key +
 * ETag), and loads them through the bulk path.
 */
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type ListObjectsV2CommandOutput, type _Object } from '@aws-sdk/client-s3';
import { UsageError } from '../core/errors.js';
import { mapLimit } from '../core/pool.js';
import { isoSeconds } from '../core/time.js';
import { ingestFiles, type FailedInput, type RemoteInputInfo } from '../ingest/pipeline.js';
import { parseTrailPath, trailPathInScope, type Scope, type TrailPathInfo } from '../ingest/trail-layout.js';
import { AwsCredentialsError, AwsResourceNotFoundError, SerialQueue, clientConfig, resolveHomeRegion, withRetries, type AwsFailure } from './aws.js';
import { TruncatedBodyError, cachePath, cacheRoot, variantPath, knownRemoteObjects, recordRemoteObjects, streamToCacheFile, writeCacheFile, type KnownObject, type RemoteObject } from './evidence-cache.js';
import type { RemoteIngestOptions, RemoteIngestSummary } from './remote-ingest.js';
import { pages, type PageRequest } from './pages.js';

/** Options of an S3 trail archive ingest. */
export interface S3IngestOptions extends RemoteIngestOptions {
  /** `s3://bucket`, `s3://bucket/prefix` (the trail's key prefix), or a deeper `…/AWSLogs/…` path. */
  readonly uri: string;
  /** Parallel requests (default 16). */
  readonly concurrency?: number;
  /** Whether to fetch digest files too (default true). */
  readonly digests?: boolean;
}

/** A bucket and key prefix. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** Reads `s3://bucket[/prefix]`. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri.trim());
  if (!match) throw new UsageError(`"${uri}" is not an S3 location; write s3://BUCKET or s3://BUCKET/PREFIX`);
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+/, '') };
}

const DAY = 86_400_000;
// A log file lands in the folder of its delivery time, up to a day after its events (late deliveries).
const LATE_DELIVERY_DAYS = 1;
const KINDS = ['CloudTrail', 'CloudTrail-Digest'] as const;
const MANIFEST_FLUSH = 256;
const BUFFER_BYTES = 16 * 1024 * 1024;

/** A prefix to list, and whether to list it level by level (delimiter) or whole. */
interface Listing {
  readonly prefix: string;
  readonly delimited: boolean;
}

/**
 * Ingests a CloudTrail S3 archive. Partial failure is data: a prefix that cannot be listed,
 * an object that cannot be fetched, a corrupt object — each is recorded in `inputs` and in
 * the summary's `skipped`, and the rest loads.
 */
export async function ingestS3Archive(options: S3IngestOptions): Promise<RemoteIngestSummary> {
  const started = performance.now();
  const { store, signal } = options;
  const scope = options.scope ?? {};
  const location = parseS3Uri(options.uri);
  const root = cacheRoot(store, options.cacheDir);
  const concurrency = Math.max(1, Math.min(256, options.concurrency ?? 16));
  const client = new S3Client({
    ...clientConfig(options, await resolveHomeRegion(options)),
    forcePathStyle: Boolean(options.endpointUrl),
    followRegionRedirects: true,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: concurrency }, httpsAgent: { keepAlive: true, maxSockets: concurrency } },
  });
  const retry = { maxAttempts: options.maxAttempts ?? 5, backoffMs: options.backoffMs ?? 500, ...(signal ? { signal } : {}) };
  const failures: FailedInput[] = [];
  let requests = 0;
  let retries = 0;
  let stopped: AwsFailure | undefined;
  const s3uri = (key: string) => `s3://${location.bucket}/${key}`;
  const fail = (uri: string, reason: string, path: string) => {
    const info = parseTrailPath(path);
    failures.push({ uri, status: 'failed', reason, ...(info?.account ? { account: info.account } : {}), ...(info?.region ? { region: info.region } : {}) });
  };
  /** A failure that ends the run (credentials, expired token, unknown bucket) or one that only loses this prefix/object. */
  const triage = (failure: AwsFailure, uri: string, path: string, error: unknown) => {
    if (signal?.aborted) return; // a request cut short by Ctrl-C is not a failure: the next run fetches it
    if (failure.kind === 'credentials' && requests <= 1) throw new AwsCredentialsError(failure.reason, { cause: error });
    if (failure.kind === 'not-found' && /NoSuchBucket/.test(failure.code)) {
      throw new AwsResourceNotFoundError(`no bucket ${location.bucket} (NoSuchBucket); check the name, or pass --endpoint-url for a bucket elsewhere`, { cause: error });
    }
    if (failure.kind === 'credentials' || failure.kind === 'expired') stopped ??= failure;
    fail(uri, failure.reason, path);
  };

  async function list(listing: Listing): Promise<{ keys: _Object[]; prefixes: string[] } | undefined> {
    const keys: _Object[] = [];
    const prefixes: string[] = [];
    const request: PageRequest<ListObjectsV2CommandOutput> = {
      send: (token) => {
        requests++;
        return client.send(
          new ListObjectsV2Command({ Bucket: location.bucket, Prefix: listing.prefix, ...(listing.delimited ? { Delimiter: '/' } : {}), ...(token ? { ContinuationToken: token } : {}) }),
          signal ? { abortSignal: signal } : {},
        );
      },
      nextToken: (page) => (page.IsTruncated ? page.NextContinuationToken : undefined),
      ...retry,
      permission: `s3:ListBucket on arn:aws:s3:::${location.bucket}`,
      onRetry: () => retries++,
    };
    const notListed = () => {
      if (stopped) fail(s3uri(listing.prefix), `not listed: ${stopped.reason}`, listing.prefix);
      return Boolean(stopped);
    };
    if (notListed()) return undefined;
    for await (const item of pages(request)) {
      if (!item.ok) {
        triage(item.failure, s3uri(listing.prefix), listing.prefix, item.error);
        return undefined;
      }
      for (const object of item.page.Contents ?? []) keys.push(object);
      for (const p of item.page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      options.onProgress?.({ phase: 'list', done: requests, events: 0, bytes: 0 });
      if (item.nextToken && notListed()) return undefined;
    }
    return { keys, prefixes };
  }

  try {
    const plan = await planListings(location, scope, options.now ?? new Date(), list, options.digests ?? true);
    const listed = await mapLimit(plan.full, Math.min(concurrency, 32), (listing) => list(listing));
    const objects = listed
      .flatMap((l) => l?.keys ?? [])
      .filter((o) => o.Key && !o.Key.endsWith('/') && keyInScope(o.Key, scope, options.digests ?? true))
      .sort((a, b) => (a.Key! < b.Key! ? -1 : 1));

    // Download what is not in the cache yet, in parallel; the manifest is written in batches by one writer.
    const known = await knownRemoteObjects(store, 's3', s3uri(location.prefix));
    const knownUris = new Set([...known.keys()].map((k) => k.split('\u0000')[0]!));
    const writer = new SerialQueue();
    let pending: RemoteObject[] = [];
    const flush = () => {
      const batch = pending;
      pending = [];
      return writer.run(() => recordRemoteObjects(store, batch));
    };
    const uris = new Map<string, RemoteInputInfo>();
    const claim = cacheClaims(known);
    const paths: string[] = [];
    const madeDirs = new Set<string>();
    let reused = 0;
    let alreadyIngested = 0;
    let fetched = 0;
    let bytes = 0;
    let done = 0;
    await mapLimit(objects, concurrency, async (object) => {
      const key = object.Key!;
      const uri = s3uri(key);
      const etag = (object.ETag ?? '').replace(/"/g, '');
      const cached = known.get(`${uri}\u0000${etag}`);
      // Another version of the object already in the cache is evidence too (a log file changed in the bucket): keep both.
      const plain = cachePath(root, 's3', location.bucket, key);
      const path = cached?.cachePath ?? (knownUris.has(uri) ? variantPath(plain, etag) : plain);
      const owner = claim(path, uri);
      if (owner !== uri) {
        fail(uri, `its cache file ${path} is already that of ${owner}; nothing was overwritten: move the cache (--cache DIR) or report this object`, key);
      } else if (cached?.ingested) {
        alreadyIngested++;
      } else if (cached && existsSync(cached.cachePath)) {
        reused++;
        uris.set(cached.cachePath, { uri });
        paths.push(cached.cachePath);
      } else if (stopped || signal?.aborted) {
        if (stopped) fail(uri, `not fetched: ${stopped.reason}`, key);
      } else {
        const result = await withRetries(
          () => {
            requests++;
            return fetchToCache(client, location.bucket, key, path, madeDirs, signal);
          },
          { ...retry, permission: `s3:GetObject on arn:aws:s3:::${location.bucket}/*`, onRetry: () => retries++ },
        );
        if (result.ok) {
          const { response, written } = result.value;
          fetched++;
          bytes += written.bytes;
          uris.set(path, { uri });
          paths.push(path);
          pending.push({
            source: 's3',
            uri,
            etag: (response.ETag ?? object.ETag ?? '').replace(/"/g, ''),
            size: written.bytes,
            lastModified: object.LastModified ? object.LastModified.toISOString() : null,
            sha256: written.sha256,
            cachePath: path,
            signature: response.Metadata?.['signature'] ?? null,
            signatureAlgorithm: response.Metadata?.['signature-algorithm'] ?? null,
          });
          if (pending.length >= MANIFEST_FLUSH) await flush();
        } else {
          triage(result.failure, uri, key, result.error);
        }
      }
      options.onProgress?.({ phase: 'download', done: ++done, total: objects.length, events: 0, bytes });
    });
    await flush();

    const summary = await ingestFiles({
      paths: paths.sort(),
      store,
      scope,
      source: 's3',
      describeInput: (path) => uris.get(path),
      failures,
      alreadyIngested,
      arguments: {
        uri: options.uri,
        bucket: location.bucket,
        prefix: location.prefix,
        scope: { since: scope.since ? isoSeconds(scope.since) : null, until: scope.until ? isoSeconds(scope.until) : null, accounts: scope.accounts ?? [], regions: scope.regions ?? [] },
        listed: plan.full.map((l) => l.prefix),
        endpoint: options.endpointUrl ?? null,
        profile: options.profile ?? null,
      },
      ...(signal ? { signal } : {}),
      ...(signal?.aborted ? { interrupted: true } : {}),
      ...options.load,
    });
    return {
      ...summary,
      filesFound: objects.length,
      source: 's3',
      remote: { requests, retries, fetched, reused, bytes, failed: failures.length, seconds: Math.round((performance.now() - started) / 10) / 100 },
    };
  } finally {
    client.destroy();
  }
}

/** Downloads one object into its cache file: whole when it is small (most log files), streamed otherwise; a short body is an error to retry. */
async function fetchToCache(client: S3Client, bucket: string, key: string, path: string, madeDirs: Set<string>, signal: AbortSignal | undefined) {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
  const expected = response.ContentLength;
  if (expected === undefined || expected > BUFFER_BYTES || !response.Body) {
    return { response, written: await streamToCacheFile(path, response.Body as Readable, expected) };
  }
  // Log files are small: reading them whole costs less than a stream pipeline per object.
  const body = Buffer.from(await response.Body.transformToByteArray());
  if (body.length !== expected) throw new TruncatedBodyError(body.length, expected);
  return { response, written: { sha256: await writeCacheFile(path, body, madeDirs), bytes: body.length } };
}

/**
 * Which object each cache file belongs to: paths are one to one with keys, but a file system
 * that folds case (macOS, Windows) can still make two keys one file. `claim(path, uri)` gives
 * the file's owner: `uri` itself when the file is free or already its own, another URI (to be
 * refused) otherwise.
 */
function cacheClaims(known: ReadonlyMap<string, KnownObject>): (path: string, uri: string) => string {
  const owners = new Map<string, string>();
  const foldCase = process.platform !== 'linux';
  for (const [k, v] of known) owners.set(foldCase ? v.cachePath.toLowerCase() : v.cachePath, k.split('\u0000')[0]!);
  return (path, uri) => {
    const id = foldCase ? path.toLowerCase() : path;
    const owner = owners.get(id);
    if (owner === undefined) owners.set(id, uri);
    return owner ?? uri;
  };
}

/** The prefixes to list whole (day folders, or region folders without a window), found level by level. */
async function planListings(
  location: S3Location,
  scope: Scope,
  now: Date,
  list: (listing: Listing) => Promise<{ keys: _Object[]; prefixes: string[] } | undefined>,
  digests: boolean,
): Promise<{ full: Listing[] }> {
  const given = location.prefix.length === 0 || location.prefix.endsWith('/') ? location.prefix : `${location.prefix}/`;
  const at = given.lastIndexOf('AWSLogs/');
  const base = at >= 0 ? given.slice(0, at + 'AWSLogs/'.length) : `${given}AWSLogs/`;
  const fixed: TrailPathInfo = at >= 0 ? (parseTrailPath(given.slice(at)) ?? {}) : {};
  if (at >= 0 && given.slice(at).split('/').filter(Boolean).length > 1 && !parseTrailPath(given.slice(at))) {
    throw new UsageError(`s3://${location.bucket}/${location.prefix} is not a CloudTrail path (AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/)`);
  }
  const childNames = (prefixes: readonly string[], parent: string) => prefixes.map((p) => p.slice(parent.length).replace(/\/$/, ''));

  // Accounts, under AWSLogs/ or AWSLogs/o-org/.
  let accountRoots: string[] = [];
  if (fixed.account) {
    accountRoots = [`${base}${fixed.organization ? `${fixed.organization}/` : ''}${fixed.account}/`];
  } else {
    const orgs: string[] = [];
    if (fixed.organization) {
      orgs.push(`${base}${fixed.organization}/`);
    } else {
      const top = await list({ prefix: base, delimited: true });
      if (!top) return { full: [] };
      for (const name of childNames(top.prefixes, base)) {
        if (name.startsWith('o-')) orgs.push(`${base}${name}/`);
        else if (/^\d{12}$/.test(name) && inList(scope.accounts, name)) accountRoots.push(`${base}${name}/`);
      }
      if (top.prefixes.length === 0) {
        throw new AwsResourceNotFoundError(`no AWSLogs/ folder at s3://${location.bucket}/${base}; pass the trail's key prefix, e.g. s3://${location.bucket}/PREFIX`);
      }
    }
    for (const org of orgs) {
      if (scope.accounts?.length) {
        accountRoots.push(...scope.accounts.map((a) => `${org}${a}/`));
        continue;
      }
      const members = await list({ prefix: org, delimited: true });
      for (const name of childNames(members?.prefixes ?? [], org)) if (/^\d{12}$/.test(name)) accountRoots.push(`${org}${name}/`);
    }
  }

  // Regions under each account's CloudTrail/ and CloudTrail-Digest/.
  const kinds = fixed.kind === 'digest' ? ['CloudTrail-Digest'] : fixed.kind === 'log' ? ['CloudTrail'] : digests ? [...KINDS] : ['CloudTrail'];
  const regionRoots: string[] = [];
  for (const account of accountRoots) {
    for (const kind of kinds) {
      const kindRoot = `${account}${kind}/`;
      if (fixed.region) regionRoots.push(`${kindRoot}${fixed.region}/`);
      else if (scope.regions?.length) regionRoots.push(...scope.regions.map((r) => `${kindRoot}${r}/`));
      else {
        const regions = await list({ prefix: kindRoot, delimited: true });
        regionRoots.push(...(regions?.prefixes ?? []));
      }
    }
  }

  // Days: the folders the window can touch, or the whole region when there is no window.
  const full: Listing[] = [];
  for (const region of regionRoots) {
    if (fixed.day !== undefined) {
      full.push({ prefix: `${region}${datePrefix(fixed)}`, delimited: false });
    } else if (scope.since) {
      const from = Math.max(scope.since.getTime(), fixedStart(fixed) ?? -Infinity);
      const untilMs = (scope.until ?? now).getTime() + LATE_DELIVERY_DAYS * DAY;
      for (let day = Math.floor(from / DAY) * DAY; day <= untilMs; day += DAY) {
        const d = new Date(day);
        const info: TrailPathInfo = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
        if (fixed.year !== undefined && fixed.year !== info.year) continue;
        if (fixed.month !== undefined && fixed.month !== info.month) continue;
        full.push({ prefix: `${region}${datePrefix(info)}`, delimited: false });
      }
    } else {
      full.push({ prefix: `${region}${fixed.year !== undefined ? datePrefix(fixed) : ''}`, delimited: false });
    }
  }
  return { full };
}

function inList(list: readonly string[] | undefined, value: string): boolean {
  return !list?.length || list.includes(value);
}

function datePrefix(info: TrailPathInfo): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  if (info.year === undefined) return '';
  if (info.month === undefined) return `${info.year}/`;
  if (info.day === undefined) return `${info.year}/${pad(info.month)}/`;
  return `${info.year}/${pad(info.month)}/${pad(info.day)}/`;
}

function fixedStart(info: TrailPathInfo): number | undefined {
  if (info.year === undefined) return undefined;
  return Date.UTC(info.year, (info.month ?? 1) - 1, info.day ?? 1);
}

/** Whether a listed key is a log or digest file inside the scope. */
function keyInScope(key: string, scope: Scope, digests: boolean): boolean {
  const info = parseTrailPath(key);
  if (!info || (info.kind !== 'log' && !(digests && info.kind === 'digest'))) return false;
  return trailPathInScope(info, scope);
}
