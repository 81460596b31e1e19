/**
 * The evidence cache: raw files fetched from AWS, kept next to the store with their sha256,
 * and the manifest of remote objects and pull checkpoints that makes remote ingests resumable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { BIGINT, LIST, VARCHAR, listValue, type DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/store.js';

/** The cache folder for a store: `<store>.evidence`, unless --cache names one. */
export function cacheRoot(store: Store, cacheDir: string | undefined): string {
  if (cacheDir) return cacheDir;
  if (store.path === ':memory:') throw new UsageError('an in-memory store has no evidence cache next to it; pass --cache DIR');
  return `${store.path}.evidence`;
}

/**
 * Turns a remote name (bucket key, log group, region) into a relative path under the cache,
 * one to one: two names never give the same path, so a planted object cannot overwrite the
 * cache file of another. Each `/`-separated part keeps `A-Z a-z 0-9 . _ = + @ , -` and
 * percent-encodes every other byte of its UTF-8 (`%` too); an empty part becomes `%`, and
 * `.`/`..` become `%2E`/`%2E%2E`, so no part can climb out of the cache. A bare `%`, or `%`
 * followed by letters, never comes out of the encoding: the cache uses such names for its own
 * folders (see {@link variantPath}).
 */
export function safeRelative(name: string): string {
  return name
    .split('/')
    .map((part) => {
      if (part === '') return '%';
      if (part === '.' || part === '..') return part.replace(/\./g, '%2E');
      return [...Buffer.from(part, 'utf8')].map((b) => (SAFE_BYTE[b] ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
    })
    .join('/');
}

const SAFE_BYTE: readonly boolean[] = Array.from({ length: 256 }, (_, b) => /[A-Za-z0-9._=+@,-]/.test(String.fromCharCode(b)));

/**
 * The cache path of another version of an object already cached (its content changed in the
 * bucket): beside it, in a folder `%etag-…` that no escaped name can be, same file name.
 */
export function variantPath(path: string, etag: string): string {
  return join(dirname(path), `%etag-${etag.replace(/[^A-Za-z0-9-]/g, '') || 'none'}`, basename(path));
}

/** Writes bytes atomically (temporary file, then rename) and returns their sha256. `made` remembers folders already created. */
export async function writeCacheFile(path: string, bytes: Buffer | string, made?: Set<string>): Promise<string> {
  const dir = dirname(path);
  if (!made?.has(dir)) {
    await mkdir(dir, { recursive: true });
    made?.add(dir);
  }
  const tmp = `${path}.${randomBytes(4).toString('hex')}.part`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return createHash('sha256').update(bytes).digest('hex');
}

/** A body that ended before the length the server announced. */
export class TruncatedBodyError extends Error {
  constructor(received: number, expected: number) {
    super(`connection closed after ${received} of ${expected} bytes`);
    this.name = 'TruncatedBodyError';
  }
}

/**
 * Streams a download into the cache atomically, hashing on the way; fails (leaving nothing
 * behind) if the stream breaks or delivers fewer bytes than `expectedBytes`.
 */
export async function streamToCacheFile(path: string, body: Readable, expectedBytes: number | undefined): Promise<{ sha256: string; bytes: number }> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(body, tap, createWriteStream(tmp));
    if (expectedBytes !== undefined && bytes !== expectedBytes) throw new TruncatedBodyError(bytes, expectedBytes);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** One object fetched from a remote store into the cache. */
export interface RemoteObject {
  readonly source: string;
  readonly uri: string;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: string | null;
  readonly sha256: string;
  readonly cachePath: string;
  readonly signature: string | null;
  readonly signatureAlgorithm: string | null;
}

/** A remote object already in the cache, and whether a run has loaded it. */
export interface KnownObject {
  readonly etag: string;
  readonly sha256: string;
  readonly cachePath: string;
  /** True when an unscoped load (or a digest record) of the same bytes exists. */
  readonly ingested: boolean;
}

/** The cached objects whose uri starts with `prefix`, by uri + ETag. */
export async function knownRemoteObjects(store: Store, source: string, prefix: string): Promise<Map<string, KnownObject>> {
  const rows = await store.all<{ uri: string; etag: string; sha256: string; cache_path: string; ingested: boolean }>(
    `select r.uri, r.etag, r.sha256, r.cache_path,
            exists (select 1 from inputs i where i.sha256 = r.sha256 and ((i.status = 'loaded' and not i.scoped) or i.status = 'digest')) as ingested
     from remote_objects r
     where r.source = ? and starts_with(r.uri, ?)`,
    [source, prefix],
  );
  return new Map(rows.map((r) => [`${r.uri}\u0000${r.etag}`, { etag: r.etag, sha256: r.sha256, cachePath: r.cache_path, ingested: r.ingested }]));
}

/** Records fetched objects in the manifest (one statement; a re-fetch replaces the row). */
export async function recordRemoteObjects(store: Store, objects: readonly RemoteObject[]): Promise<void> {
  if (objects.length === 0) return;
  const column = (f: (o: RemoteObject) => DuckDBValue) => listValue(objects.map(f));
  await store.run(
    `insert or replace into remote_objects (source, uri, etag, size_bytes, last_modified, sha256, cache_path, signature, signature_algorithm, fetched_at)
     select unnest($source), unnest($uri), unnest($etag), unnest($size), try_cast(unnest($modified) as timestamptz), unnest($sha256), unnest($path), unnest($signature), unnest($algorithm), now()`,
    {
      source: column((o) => o.source),
      uri: column((o) => o.uri),
      etag: column((o) => o.etag),
      size: column((o) => BigInt(o.size)),
      modified: column((o) => o.lastModified),
      sha256: column((o) => o.sha256),
      path: column((o) => o.cachePath),
      signature: column((o) => o.signature),
      algorithm: column((o) => o.signatureAlgorithm),
    },
    {
      source: LIST(VARCHAR),
      uri: LIST(VARCHAR),
      etag: LIST(VARCHAR),
      size: LIST(BIGINT),
      modified: LIST(VARCHAR),
      sha256: LIST(VARCHAR),
      path: LIST(VARCHAR),
      signature: LIST(VARCHAR),
      algorithm: LIST(VARCHAR),
    },
  );
}

/** Where a paginated pull (one region, one log group) stands. */
export interface Checkpoint {
  readonly nextToken: string | null;
  readonly pages: number;
  readonly events: number;
  readonly done: boolean;
}

/** What identifies a pull, stored with its checkpoint for the record. */
export interface PullIdentity {
  readonly source: string;
  readonly key: string;
  readonly region: string | null;
  readonly target: string | null;
  readonly since: Date;
  readonly until: Date;
  readonly filter: string | null;
}

/** The saved state of a pull, if a previous run started it. */
export async function loadCheckpoint(store: Store, source: string, key: string): Promise<Checkpoint | undefined> {
  const row = await store.one<{ next_token: string | null; pages: number; events: number; done: boolean }>(
    `select next_token, pages, events, done from pull_checkpoints where source = ? and pull_key = ?`,
    [source, key],
  );
  return row ? { nextToken: row.next_token, pages: row.pages, events: row.events, done: row.done } : undefined;
}

/** Saves where a pull stands, after the page it names is safely in the cache. */
export async function saveCheckpoint(store: Store, pull: PullIdentity, state: Checkpoint): Promise<void> {
  await store.run(
    `insert or replace into pull_checkpoints (source, pull_key, region, target, window_start, window_end, filter, next_token, pages, events, done, updated_at)
     values (?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?, ?, now())`,
    [pull.source, pull.key, pull.region, pull.target, pull.since.toISOString(), pull.until.toISOString(), pull.filter, state.nextToken, state.pages, state.events, state.done],
  );
}

/** A short stable name for a pull, used as its cache folder. */
export function pullFolder(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Joins cache path parts. */
export function cachePath(root: string, ...parts: string[]): string {
  return join(root, ...parts.flatMap((p) => safeRelative(p).split('/')));
}
