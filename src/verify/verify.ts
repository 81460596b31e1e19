/**
 * `trailhound verify`: checks the evidence against CloudTrail's digest files. Hashes are
 * always checked offline (each digest lists its log files' SHA-256, and its predecessor's);
 * signatures are checked when the digest's signature came with it (S3 object metadata, so
 * `ingest s3://`) and the region's public keys were fetched (CloudTrail ListPublicKeys).
 * The results go to `verify_results` so that reports can cite them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CloudTrailClient, ListPublicKeysCommand } from '@aws-sdk/client-cloudtrail';
import { mapLimit } from '../core/pool.js';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { parseTrailPath, type Scope } from '../ingest/trail-layout.js';
import { AwsCredentialsError, clientConfig, withRetries, type AwsOptions } from '../sources/aws.js';
import { EMPTY_DIGEST, flagRepeatedKeys, PENDING_DIGEST, recordsDigestSql } from '../store/bulk-load.js';
import type { Store } from '../store/store.js';
import { contentHashAsync, digestSignatureValid, digestTrail, logFileDeliveryTime, parseDigest, trailKey, type DigestContent } from './digest-chain.js';

/** A CloudTrail public key: DER (PKCS#1) bytes and the fingerprint digests name it by. */
export interface PublicKey {
  readonly fingerprint: string;
  readonly der: Buffer;
  readonly region?: string;
}

/** Options of a verification. */
export interface VerifyOptions extends AwsOptions {
  readonly store: Store;
  /** Narrow to digests whose period ends in the window, and to these accounts / regions. */
  readonly scope?: Scope;
  /** Fetch each region's public keys with CloudTrail ListPublicKeys (needs credentials). */
  readonly fetchKeys?: boolean;
  /** Public keys known already (offline use, tests). */
  readonly publicKeys?: readonly PublicKey[];
  readonly signal?: AbortSignal;
}

/** One line of the verification, as stored in `verify_results`. */
export interface VerifyResult {
  readonly kind: 'digest' | 'log-file' | 'gap' | 'silent' | 'store';
  /**
   * digest: `signature-ok`, `unverified` (hash chain checked, no signature or key), `signature-invalid`, `modified`, `missing`, `unreadable`;
   * log-file: `verified`, `modified` (also: the file loaded is not the one on disk), `missing`, `not-in-digest`, `unreadable`;
   * gap: `digest-gap`; silent: `no-log-files`; store: `modified` (an input's stored records differ from those loaded).
   */
  readonly status: string;
  readonly uri: string | null;
  readonly digestUri: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly expected: string | null;
  readonly actual: string | null;
  readonly detail: string;
}

/** The outcome of a verification. */
export interface VerifyReport {
  readonly verifyRunId: string;
  readonly digests: { readonly total: number; readonly signatureOk: number; readonly unverified: number; readonly invalid: number; readonly missing: number; readonly modified: number };
  readonly logFiles: { readonly listed: number; readonly verified: number; readonly modified: number; readonly missing: number; readonly notInDigest: number; readonly unreadable: number };
  /** Loaded inputs that no digest in the evidence lists: their content could not be checked against CloudTrail's hashes. */
  readonly unchecked: { readonly files: number; readonly reasons: readonly string[] };
  /**
   * Loaded inputs whose stored records were compared with the digest of the records recorded at
   * load, and how many differ; notRecorded: loaded by a release that took no digest; pending: the
   * load was cut off before its digest was taken (the next ingest takes it).
   */
  readonly storedRecords: { readonly inputs: number; readonly modified: number; readonly notRecorded: number; readonly pending: number };
  /** Objects of stored events that repeat a JSON key (each listed in record_issues, kind repeated-key). */
  readonly repeatedKeys: number;
  /** Stored events that share eventID and account with a record of other content (`record_issues`). */
  readonly conflicts: number;
  /**
   * `intact`: every loaded file was checked against a digest and nothing is wrong; `partly-checked`: nothing wrong, but
   * some loaded files are in no digest; `not-checked`: no file could be checked against a digest; `not-intact`: see problems.
   */
  readonly verdict: 'intact' | 'partly-checked' | 'not-checked' | 'not-intact';
  readonly digestGaps: number;
  readonly silentHours: number;
  /** True when nothing was modified, missing or invalid (also when nothing could be checked: see `verdict`). */
  readonly intact: boolean;
  /** Every result that is not a plain success, sorted by time then uri. */
  readonly problems: readonly VerifyResult[];
  readonly results: readonly VerifyResult[];
  /** What limited the check, e.g. public keys that could not be fetched for a region. */
  readonly notes: readonly string[];
  readonly seconds: number;
}

interface StoredFile {
  readonly uri: string;
  readonly readPath: string;
  /** The sha256 of the bytes each loaded input of this file parsed (several when the file was loaded again after a change). */
  readonly loaded?: ReadonlyArray<{ readonly inputId: number; readonly sha256: string }>;
  readonly signature: string | null;
  readonly account: string | null;
  readonly region: string | null;
}

interface LoadedDigest {
  readonly file: StoredFile;
  readonly key: string;
  readonly content: DigestContent;
  readonly sha256: string;
  readonly trail: string;
}

const HOUR = 3_600_000;

/** Verifies the store's evidence against its digest files and records the results. */
export async function verifyEvidence(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { store } = options;
  const scope = options.scope ?? {};
  const verifyRunId = `${isoSeconds(new Date()).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
  const results: VerifyResult[] = [];
  const push: Push = (r) => results.push({ uri: null, digestUri: null, account: null, region: null, from: null, to: null, expected: null, actual: null, ...r });

  const digests = await loadDigests(store, scope, push);
  const notes: string[] = [];
  const keys = await publicKeys(options, digests, notes);
  const logsByKey = await storedLogFiles(store);
  const hashes = await hashListedLogFiles(digests, logsByKey);
  const { chains, listed, logFilesListed } = checkChains({ digests, keys, logsByKey, hashes, scope }, push);
  checkUnlistedLogFiles(chains, logsByKey, listed, results, push);
  const silentHours = checkSilentHours(logsByKey, listed, push);

  const storedRecords = await checkStoredRecords(store, scope, push);
  const unchecked = await uncheckedInputs(store, scope, listed);
  const conflicts = (await store.one<{ n: number }>(`select count(*)::bigint as n from record_issues where kind = 'conflict'`))?.n ?? 0;
  const repeatedKeys = await flagRepeatedKeys(store, verifyRunId);
  if (repeatedKeys > 0) notes.push(`${repeatedKeys} ${repeatedKeys === 1 ? 'object' : 'objects'} of stored events repeat a JSON key: trailhound reads the first, other tools may read another (all kept; trailhound query "select * from record_issues where kind = 'repeated-key'")`);
  if (conflicts > 0) notes.push(`${conflicts} stored events share their eventID and account with a record of other content (all kept; trailhound query "select * from record_issues where kind = 'conflict'")`);
  if (unchecked.files > 0) notes.push(`integrity could not be checked for ${unchecked.files} loaded file${unchecked.files === 1 ? '' : 's'}: ${unchecked.reasons.join('; ')}`);

  results.sort((a, b) => cmp(a.from ?? '', b.from ?? '') || cmp(a.uri ?? '', b.uri ?? '') || cmp(a.kind, b.kind));
  const count = (kind: VerifyResult['kind'], status: string) => results.filter((r) => r.kind === kind && r.status === status).length;
  const digestCount = results.filter((r) => r.kind === 'digest' && r.status !== 'missing').length;
  const intact = !results.some((r) => ['modified', 'missing', 'signature-invalid', 'unreadable', 'not-in-digest'].includes(r.status));
  const report: Omit<VerifyReport, 'seconds'> = {
    verifyRunId,
    digests: {
      total: digestCount,
      signatureOk: count('digest', 'signature-ok'),
      unverified: count('digest', 'unverified'),
      invalid: count('digest', 'signature-invalid') + count('digest', 'unreadable'),
      missing: count('digest', 'missing'),
      modified: count('digest', 'modified'),
    },
    logFiles: {
      listed: logFilesListed,
      verified: count('log-file', 'verified'),
      modified: count('log-file', 'modified'),
      missing: count('log-file', 'missing'),
      notInDigest: count('log-file', 'not-in-digest'),
      unreadable: count('log-file', 'unreadable'),
    },
    digestGaps: count('gap', 'digest-gap'),
    silentHours,
    unchecked,
    storedRecords,
    conflicts,
    repeatedKeys,
    intact,
    verdict: !intact ? 'not-intact' : count('log-file', 'verified') === 0 ? 'not-checked' : unchecked.files > 0 ? 'partly-checked' : 'intact',
    problems: results.filter((r) => !['signature-ok', 'unverified', 'verified'].includes(r.status)),
    results,
    notes,
  };
  await record(store, verifyRunId, report, options);
  return { ...report, seconds: Math.round((performance.now() - started) / 10) / 100 };
}

/** The digest files in the evidence within the scope, read from where they were stored (a local path, or the evidence cache for S3). */
async function loadDigests(store: Store, scope: Scope, push: Push): Promise<LoadedDigest[]> {
  const digestFiles = await store.all<{ uri: string; cache_path: string | null; signature: string | null; account: string | null; region: string | null }>(
    `select d.uri, r.cache_path, r.signature, d.account, d.region
     from digests d
     left join remote_objects r on r.uri = d.uri and r.sha256 = d.sha256
     order by d.uri`,
  );
  const digests: LoadedDigest[] = [];
  const read = await mapLimit(digestFiles, 8, async (row) => {
    const file: StoredFile = { uri: row.uri, readPath: row.cache_path ?? row.uri, signature: row.signature, account: row.account, region: row.region };
    const key = trailKey(row.uri) ?? row.uri;
    if (!inScope(parseTrailPath(key), scope)) return undefined;
    try {
      return { file, key, ...parseDigest(await readFile(file.readPath)) };
    } catch (error) {
      return { file, key, error: (error as Error).message.split('\n')[0] ?? 'unreadable' };
    }
  });
  for (const item of read) {
    if (!item) continue;
    if ('error' in item) {
      push({ kind: 'digest', status: 'unreadable', uri: item.file.uri, account: item.file.account, region: item.file.region, detail: `cannot read the digest file (${item.error}); re-ingest it` });
      continue;
    }
    const { content, inflatedSha256, file, key } = item;
    if (scope.since && Date.parse(content.digestEndTime) < scope.since.getTime()) continue;
    if (scope.until && Date.parse(content.digestStartTime) >= scope.until.getTime()) continue;
    digests.push({ file, key, content, sha256: inflatedSha256, trail: digestTrail(key) });
  }
  return digests;
}

/** The log files in the evidence, by their AWSLogs/… key, with what each load of them stored. */
async function storedLogFiles(store: Store): Promise<Map<string, StoredFile>> {
  const logRows = await store.all<{ uri: string; cache_path: string | null; account: string | null; region: string | null; loaded: Array<{ input_id: number; sha256: string }> | null }>(
    `select distinct on (i.uri) i.uri, r.cache_path, i.account, i.region,
            (select list({input_id: l.input_id, sha256: l.sha256} order by l.input_id) from inputs l where l.uri = i.uri and l.status = 'loaded') as loaded
     from inputs i
     left join remote_objects r on r.uri = i.uri and r.sha256 = i.sha256
     where i.status in ('loaded', 'skipped') and i.sha256 is not null and (i.format is null or i.format <> 'digest')
     order by i.uri, i.input_id desc`,
  );
  const logsByKey = new Map<string, StoredFile>();
  for (const row of logRows) {
    const key = trailKey(row.uri);
    const loaded = (row.loaded ?? []).map((l) => ({ inputId: Number(l.input_id), sha256: l.sha256 }));
    if (key && parseTrailPath(key)?.kind === 'log') logsByKey.set(key, { uri: row.uri, readPath: row.cache_path ?? row.uri, signature: null, account: row.account, region: row.region, loaded });
  }

  return logsByKey;
}

/** The content hashes of the log files the digests list, read in parallel (gunzip runs on libuv's pool). */
async function hashListedLogFiles(digests: readonly LoadedDigest[], logsByKey: ReadonlyMap<string, StoredFile>): Promise<Map<string, { sha256: string; fileSha256: string } | { error: string }>> {
  const wanted = [...new Set(digests.flatMap((d) => d.content.logFiles.map((l) => trailKey(l.s3Object) ?? l.s3Object)))].filter((k) => logsByKey.has(k));
  const hashes = new Map<string, { sha256: string; fileSha256: string } | { error: string }>();
  await mapLimit(wanted, 8, async (key) => {
    try {
      const bytes = await readFile(logsByKey.get(key)!.readPath);
      hashes.set(key, { sha256: await contentHashAsync(bytes), fileSha256: createHash('sha256').update(bytes).digest('hex') });
    } catch (error) {
      hashes.set(key, { error: (error as Error).message.split('\n')[0] ?? 'unreadable' });
    }
  });

  return hashes;
}

/** What the chain check reads. */
interface ChainInput {
  readonly digests: readonly LoadedDigest[];
  readonly keys: ReadonlyMap<string, PublicKey>;
  readonly logsByKey: ReadonlyMap<string, StoredFile>;
  readonly hashes: ReadonlyMap<string, { sha256: string; fileSha256: string } | { error: string }>;
  readonly scope: Scope;
}

/**
 * The digest chains, one per account, region and trail, in time order: each digest against its
 * successor's record of it and its signature, its predecessor present or the chain restarting,
 * and each log file it lists against its hash.
 */
function checkChains({ digests, keys, logsByKey, hashes, scope }: ChainInput, push: Push): { chains: Map<string, LoadedDigest[]>; listed: Set<string>; logFilesListed: number } {
  const byKey = new Map(digests.map((d) => [d.key, d]));
  const chains = new Map<string, LoadedDigest[]>();
  for (const d of digests) {
    const info = parseTrailPath(d.key);
    const id = `${info?.account ?? d.content.awsAccountId ?? '?'}|${info?.region ?? '?'}|${d.trail}`;
    chains.set(id, [...(chains.get(id) ?? []), d]);
  }
  const nextOf = new Map<string, LoadedDigest>();
  for (const d of digests) {
    const previous = d.content.previousDigestS3Object;
    if (previous) nextOf.set(previous, d);
  }
  const listed = new Set<string>();
  let logFilesListed = 0;
  for (const chain of chains.values()) {
    chain.sort((a, b) => (a.content.digestEndTime < b.content.digestEndTime ? -1 : a.content.digestEndTime > b.content.digestEndTime ? 1 : 0));
    for (let i = 0; i < chain.length; i++) {
      const d = chain[i]!;
      const info = parseTrailPath(d.key);
      const where = { account: info?.account ?? null, region: info?.region ?? null, from: d.content.digestStartTime, to: d.content.digestEndTime };
      // The digest itself: does its successor's record of it match, and is its signature valid?
      const successor = nextOf.get(d.key);
      const problems: string[] = [];
      let status = 'unverified';
      if (successor?.content.previousDigestHashValue && successor.content.previousDigestHashValue !== d.sha256) {
        status = 'modified';
        problems.push(`its SHA-256 differs from the one the next digest (${successor.key}) records`);
      }
      if (status !== 'modified') {
        const key = d.content.digestPublicKeyFingerprint ? keys.get(d.content.digestPublicKeyFingerprint) : undefined;
        if (d.file.signature && key) {
          status = digestSignatureValid(d.content, d.sha256, d.file.signature, key.der) ? 'signature-ok' : 'signature-invalid';
          if (status === 'signature-invalid') problems.push('its RSA signature does not verify with the CloudTrail public key: the digest was altered or forged');
        } else {
          problems.push(!d.file.signature ? 'no signature with this copy (only ingest s3:// keeps it); hashes checked' : `public key ${d.content.digestPublicKeyFingerprint ?? '?'} not fetched (pass --fetch-keys); hashes checked`);
        }
        if (successor?.content.previousDigestSignature && d.file.signature && successor.content.previousDigestSignature !== d.file.signature) {
          status = 'signature-invalid';
          problems.push('its signature differs from the one the next digest records');
        }
      }
      push({ kind: 'digest', status, uri: d.file.uri, ...where, actual: d.sha256, detail: problems.join('; ') || 'hash chain and signature valid' });

      // Its predecessor: present, or missing (deleted), or the chain restarts (logging stopped, validation off).
      const previousKey = d.content.previousDigestS3Object ? trailKey(d.content.previousDigestS3Object) : undefined;
      if (previousKey && !byKey.has(previousKey)) {
        // Before the window asked for, a predecessor is out of sight, not missing.
        if (!scope.since || !digestEndsBefore(previousKey, scope.since)) {
          push({ kind: 'digest', status: 'missing', uri: `s3://${d.content.previousDigestS3Bucket ?? d.content.digestS3Bucket}/${d.content.previousDigestS3Object}`, digestUri: d.file.uri, ...where, expected: d.content.previousDigestHashValue ?? null, detail: `named as the previous digest by ${d.key} but not in the evidence: deleted from the bucket, or not copied; ingest it or investigate` });
        }
      } else if (!previousKey && i > 0) {
        const before = chain[i - 1]!;
        push({ kind: 'gap', status: 'digest-gap', uri: null, digestUri: d.file.uri, account: where.account, region: where.region, from: before.content.digestEndTime, to: d.content.digestStartTime, detail: `the digest chain restarts: no digests between ${before.content.digestEndTime} and ${d.content.digestStartTime} (logging stopped, the trail was deleted, or log file validation was turned off)` });
      }

      // The log files it lists.
      for (const log of d.content.logFiles) {
        const key = trailKey(log.s3Object) ?? log.s3Object;
        listed.add(key);
        logFilesListed++;
        const file = logsByKey.get(key);
        const logWhere = { account: where.account, region: where.region, from: d.content.digestStartTime, to: d.content.digestEndTime, digestUri: d.file.uri, expected: log.hashValue };
        if (!file) {
          push({ kind: 'log-file', status: 'missing', uri: `s3://${log.s3Bucket}/${log.s3Object}`, ...logWhere, detail: 'listed in the digest but not in the evidence: deleted from the bucket, or not copied; ingest it or investigate' });
          continue;
        }
        const hashed = hashes.get(key);
        // The digest vouches for the file on disk; the store holds what each load parsed: they must be the same bytes.
        const other = hashed && 'sha256' in hashed ? file.loaded?.find((l) => l.sha256 !== hashed.fileSha256) : undefined;
        if (hashed && 'sha256' in hashed && other) {
          push({ kind: 'log-file', status: 'modified', uri: file.uri, ...logWhere, actual: hashed.sha256, detail: `the bytes loaded (input ${other.inputId}, sha256 ${other.sha256}) are not the file now on disk (sha256 ${hashed.fileSha256}): the file was changed around the time it was ingested, so its events in the store are not vouched for by the digest` });
        } else if (hashed && 'sha256' in hashed) {
          const actual = hashed.sha256;
          push({ kind: 'log-file', status: actual === log.hashValue ? 'verified' : 'modified', uri: file.uri, ...logWhere, actual, detail: actual === log.hashValue ? 'SHA-256 matches the digest' : 'SHA-256 differs from the digest: the file was changed after CloudTrail delivered it' });
        } else {
          push({ kind: 'log-file', status: 'unreadable', uri: file.uri, ...logWhere, detail: `cannot read it (${hashed?.error ?? 'not hashed'}); re-ingest it` });
        }
      }
    }
  }

  return { chains, listed, logFilesListed };
}

/** Log files in the evidence that no digest lists although digests cover their time. */
function checkUnlistedLogFiles(chains: ReadonlyMap<string, readonly LoadedDigest[]>, logsByKey: ReadonlyMap<string, StoredFile>, listed: ReadonlySet<string>, results: readonly VerifyResult[], push: Push): void {
  const spans = [...chains.entries()].map(([id, chain]) => ({ id, from: Date.parse(chain[0]!.content.digestStartTime), to: Date.parse(chain[chain.length - 1]!.content.digestEndTime) }));
  for (const [key, file] of logsByKey) {
    if (listed.has(key)) continue;
    const info = parseTrailPath(key);
    const at = logFileDeliveryTime(key);
    if (at === undefined || !info) continue;
    const covered = spans.some((s) => s.id.startsWith(`${info.account}|${info.region}|`) && at > s.from && at <= s.to - 15 * 60_000);
    const digestMissing = results.some((r) => r.kind === 'digest' && r.status === 'missing' && r.account === (info.account ?? null) && r.region === (info.region ?? null));
    const why = digestMissing ? 'it may have been added to the bucket, or been listed in a digest that is missing; investigate' : 'it may have been added to the bucket; investigate';
    if (covered) push({ kind: 'log-file', status: 'not-in-digest', uri: file.uri, account: info.account ?? null, region: info.region ?? null, from: isoSeconds(new Date(at)), detail: `in the evidence but in no digest covering its delivery time: ${why}` });
  }

}

/** Hours with no log file for a region that was active (between its first and last delivery); gives their number. */
function checkSilentHours(logsByKey: ReadonlyMap<string, StoredFile>, listed: ReadonlySet<string>, push: Push): number {
  const deliveries = new Map<string, number[]>();
  for (const key of new Set([...logsByKey.keys(), ...listed])) {
    const info = parseTrailPath(key);
    const at = logFileDeliveryTime(key);
    if (!info?.account || !info.region || at === undefined) continue;
    const id = `${info.account}|${info.region}`;
    deliveries.set(id, [...(deliveries.get(id) ?? []), Math.floor(at / HOUR) * HOUR]);
  }
  let silentHours = 0;
  for (const [id, hours] of deliveries) {
    const [account, region] = id.split('|');
    const seen = new Set(hours);
    const sorted = [...seen].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      const gap = (sorted[i]! - sorted[i - 1]!) / HOUR - 1;
      if (gap < 1) continue;
      silentHours += gap;
      push({ kind: 'silent', status: 'no-log-files', account: account ?? null, region: region ?? null, from: isoSeconds(new Date(sorted[i - 1]! + HOUR)), to: isoSeconds(new Date(sorted[i]!)), detail: `${gap} hour${gap === 1 ? '' : 's'} without a log file in an active region (no activity, or files removed)` });
    }
  }

  return silentHours;
}

type Push = (r: Omit<VerifyResult, 'uri' | 'digestUri' | 'account' | 'region' | 'from' | 'to' | 'expected' | 'actual'> & Partial<VerifyResult>) => void;

/**
 * Derives each loaded input's records digest from the store again and compares it with the
 * one recorded at load: a difference means rows were changed, added or removed since.
 */
async function checkStoredRecords(store: Store, scope: Scope, push: Push): Promise<VerifyReport['storedRecords']> {
  const rows = await store.all<{ input_id: number; uri: string; account: string | null; region: string | null; recorded: string | null; derived: string | null }>(
    `select i.input_id, i.uri, i.account, i.region, i.records_digest as recorded, d.digest as derived
     from inputs i
     left join (${recordsDigestSql('event_rows')}) d using (input_id)
     where i.status = 'loaded'
     order by i.input_id`,
  );
  let inputs = 0;
  let modified = 0;
  let notRecorded = 0;
  let pending = 0;
  for (const row of rows) {
    if (!inScope({ account: row.account ?? undefined, region: row.region ?? undefined }, scope)) continue;
    if (row.recorded === null) {
      notRecorded++;
      continue;
    }
    if (row.recorded === PENDING_DIGEST) {
      pending++;
      continue;
    }
    inputs++;
    const derived = row.derived ?? EMPTY_DIGEST;
    if (derived === row.recorded) continue;
    modified++;
    push({ kind: 'store', status: 'modified', uri: row.uri, account: row.account, region: row.region, expected: row.recorded, actual: derived, detail: `the store's events from this file (input ${row.input_id}) are not those loaded: rows were changed, added or removed after the load` });
  }
  return { inputs, modified, notRecorded, pending };
}

/** Loaded inputs no digest lists, and why (no digest files, or sources that have none). */
async function uncheckedInputs(store: Store, scope: Scope, listed: ReadonlySet<string>): Promise<VerifyReport['unchecked']> {
  const rows = await store.all<{ uri: string; source: string; account: string | null; region: string | null }>(`select uri, source, account, region from inputs where status = 'loaded'`);
  const bySource = new Map<string, number>();
  for (const row of rows) {
    if (!inScope({ account: row.account ?? undefined, region: row.region ?? undefined }, scope)) continue;
    const key = trailKey(row.uri);
    if (key && listed.has(key)) continue;
    bySource.set(row.source, (bySource.get(row.source) ?? 0) + 1);
  }
  const reasons: string[] = [];
  const remote = ['event-history', 'cloudwatch-logs', 'athena'];
  for (const [source, n] of [...bySource].sort()) {
    reasons.push(
      remote.includes(source)
        ? `${n} from ${source}, which CloudTrail does not digest`
        : `${n} from ${source === 'file' ? 'local files' : source} that no digest file in the evidence lists (ingest the trail's CloudTrail-Digest files with them)`,
    );
  }
  return { files: [...bySource.values()].reduce((a, b) => a + b, 0), reasons };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inScope(info: { readonly account?: string | undefined; readonly region?: string | undefined } | undefined, scope: Scope): boolean {
  if (info?.account && scope.accounts?.length && !scope.accounts.includes(info.account)) return false;
  if (info?.region && scope.regions?.length && !scope.regions.includes(info.region)) return false;
  return true;
}

/** Whether a digest key's end time (in its name) falls before `since`. */
function digestEndsBefore(key: string, since: Date): boolean {
  const match = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:_backfill)?\.json/.exec(key);
  if (!match) return false;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) < since.getTime();
}

/** The public keys to check signatures with: those given, plus those ListPublicKeys returns per region when asked. */
async function publicKeys(options: VerifyOptions, digests: readonly LoadedDigest[], notes: string[]): Promise<Map<string, PublicKey>> {
  const keys = new Map((options.publicKeys ?? []).map((k) => [k.fingerprint, k]));
  if (!options.fetchKeys || digests.length === 0) return keys;
  const regions = new Map<string, { from: number; to: number }>();
  for (const d of digests) {
    const region = parseTrailPath(d.key)?.region;
    if (!region) continue;
    const span = regions.get(region) ?? { from: Infinity, to: -Infinity };
    regions.set(region, { from: Math.min(span.from, Date.parse(d.content.digestStartTime)), to: Math.max(span.to, Date.parse(d.content.digestEndTime)) });
  }
  for (const [region, span] of regions) {
    const client = new CloudTrailClient(clientConfig(options, region));
    try {
      let token: string | undefined;
      do {
        const result = await withRetries(
          () => client.send(new ListPublicKeysCommand({ StartTime: new Date(span.from), EndTime: new Date(span.to), ...(token ? { NextToken: token } : {}) })),
          { permission: `cloudtrail:ListPublicKeys in ${region}`, maxAttempts: options.maxAttempts ?? 5, backoffMs: options.backoffMs ?? 500, ...(options.signal ? { signal: options.signal } : {}) },
        );
        if (!result.ok) {
          if (result.failure.kind === 'credentials' || result.failure.kind === 'expired') throw new AwsCredentialsError(result.failure.reason, { cause: result.error });
          // Signatures in this region stay unverified; the hashes are still checked.
          notes.push(`public keys for ${region} not fetched: ${result.failure.reason}; its digest signatures are unverified`);
          break;
        }
        for (const k of result.value.PublicKeyList ?? []) {
          if (k.Fingerprint && k.Value) keys.set(k.Fingerprint, { fingerprint: k.Fingerprint, der: Buffer.from(k.Value), region });
        }
        token = result.value.NextToken;
      } while (token);
    } finally {
      client.destroy();
    }
  }
  return keys;
}

/** Stores the run and its results. */
async function record(store: Store, verifyRunId: string, report: Omit<VerifyReport, 'seconds'>, options: VerifyOptions): Promise<void> {
  const scope = options.scope ?? {};
  await store.transaction(async () => {
    await store.run(
      `insert into verify_runs values (?, now(), now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        verifyRunId,
        JSON.stringify({ since: scope.since ? isoSeconds(scope.since) : null, until: scope.until ? isoSeconds(scope.until) : null, accounts: scope.accounts ?? [], regions: scope.regions ?? [], fetchKeys: options.fetchKeys ?? false }),
        toolVersion(),
        report.digests.total,
        report.digests.signatureOk + report.digests.unverified,
        report.digests.signatureOk,
        report.logFiles.listed,
        report.logFiles.verified,
        report.logFiles.modified,
        report.logFiles.missing,
        report.digestGaps,
        report.silentHours,
      ],
    );
    for (let start = 0; start < report.results.length; start += 500) {
      const chunk = report.results.slice(start, start + 500);
      await store.run(
        `insert into verify_results values ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, try_cast(? as timestamptz), try_cast(? as timestamptz), ?, ?, ?)').join(', ')}`,
        chunk.flatMap((r) => [verifyRunId, r.kind, r.status, r.uri, r.digestUri, r.account, r.region, r.from, r.to, r.expected, r.actual, r.detail]),
      );
    }
  });
}
