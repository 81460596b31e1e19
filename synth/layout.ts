import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '../src/core/record.js';
import { isoSeconds } from '../src/core/time.js';
import { DEFAULT_TRAIL_NAME, HOME_REGION } from './records.js';

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HOUR = 3_600_000;

/** Where one CloudTrail log file sits: account, region, delivery time and the name's random part. */
export interface LogFileLocation {
  readonly account: string;
  readonly region: string;
  readonly deliveredAt: Date;
  /** The 16 letters and digits that end a log file name. */
  readonly suffix: string;
  /** Organization id (`o-…`) for organization trails, which add it after `AWSLogs/`. */
  readonly orgId?: string;
}

/** Where one CloudTrail digest file sits. */
export interface DigestFileLocation {
  readonly account: string;
  readonly region: string;
  readonly trailName: string;
  /** The region the trail was created in; a multi-region trail names it in every region's digests. */
  readonly homeRegion: string;
  readonly endTime: Date;
  readonly orgId?: string;
}

/** The records CloudTrail delivers together in one log file. */
export interface LogFileGroup {
  readonly account: string;
  readonly region: string;
  readonly deliveredAt: Date;
  readonly records: readonly CloudTrailRecord[];
}

/** One object of a trail bucket, ready to be written or served. */
export interface TrailObject {
  readonly kind: 'log' | 'digest';
  /** The S3 object key, also the relative path under a local copy's root. */
  readonly key: string;
  /** The gzipped bytes as stored. */
  readonly body: Buffer;
  /** SHA-256 (hex) of the uncompressed content, as digest files record it. */
  readonly sha256: string;
  readonly records: number;
}

/** How to lay records out as a trail bucket copy. */
export interface TrailLayoutOptions {
  /** Bucket name written into digests; by default `aws-cloudtrail-logs-<first account>-<8 hex>`. */
  readonly bucket?: string;
  readonly trailName?: string;
  readonly homeRegion?: string;
  readonly orgId?: string;
  /** Minutes of events per delivered file; CloudTrail delivers about every five. */
  readonly windowMinutes?: number;
  /** Whether to write hourly digest files (default true). */
  readonly digests?: boolean;
  readonly gzipLevel?: number;
}

/** What `writeTrailLayout` wrote. */
export interface TrailLayoutSummary {
  readonly logFiles: number;
  readonly digestFiles: number;
  readonly records: number;
  readonly bytes: number;
  readonly keys: readonly string[];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function datePath(date: Date): string {
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}

function prefix(account: string, orgId: string | undefined): string {
  return orgId ? `AWSLogs/${orgId}/${account}` : `AWSLogs/${account}`;
}

/** Formats an instant as CloudTrail log file names do: `20260304T0215Z`. */
export function minuteStamp(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}Z`;
}

/** Formats an instant as CloudTrail digest file names do: `20260304T020131Z`. */
export function secondStamp(date: Date): string {
  return `${minuteStamp(date).slice(0, -1)}${pad(date.getUTCSeconds())}Z`;
}

/** The end of the delivery window an event falls in: the time its log file is named after. */
export function deliveryTime(eventTime: Date | string, windowMinutes = 5): Date {
  const ms = typeof eventTime === 'string' ? Date.parse(eventTime) : eventTime.getTime();
  const window = windowMinutes * 60_000;
  return new Date(Math.floor(ms / window) * window + window);
}

/** A log file name: `<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<suffix>.json.gz`. */
export function trailFileName(loc: LogFileLocation): string {
  return `${loc.account}_CloudTrail_${loc.region}_${minuteStamp(loc.deliveredAt)}_${loc.suffix}.json.gz`;
}

/** A log file's object key: `AWSLogs/[<org>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<name>`. */
export function trailObjectKey(loc: LogFileLocation): string {
  return `${prefix(loc.account, loc.orgId)}/CloudTrail/${loc.region}/${datePath(loc.deliveredAt)}/${trailFileName(loc)}`;
}

/** A digest file name: `<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<yyyymmddThhmmssZ>.json.gz`. */
export function digestFileName(loc: DigestFileLocation): string {
  return `${loc.account}_CloudTrail-Digest_${loc.region}_${loc.trailName}_${loc.homeRegion}_${secondStamp(loc.endTime)}.json.gz`;
}

/** A digest file's object key: `AWSLogs/[<org>/]<account>/CloudTrail-Digest/<region>/<yyyy>/<mm>/<dd>/<name>`. */
export function digestObjectKey(loc: DigestFileLocation): string {
  return `${prefix(loc.account, loc.orgId)}/CloudTrail-Digest/${loc.region}/${datePath(loc.endTime)}/${digestFileName(loc)}`;
}

/**
 * The 16-character name suffix for a log file. AWS draws it at random; here it is derived from
 * the file's content so the same records always land under the same name.
 */
export function logFileSuffix(content: Buffer | string): string {
  const digest = createHash('sha256').update(content).digest();
  let out = '';
  for (let i = 0; i < 16; i++) out += ALNUM[(digest[i] ?? 0) % ALNUM.length];
  return out;
}

/** The uncompressed and gzipped bytes of a log file holding `records`, as `{"Records":[…]}`. */
export function encodeLogFile(records: readonly CloudTrailRecord[], gzipLevel = 6): { json: Buffer; gz: Buffer } {
  const json = Buffer.from(JSON.stringify({ Records: records }));
  return { json, gz: gzipSync(json, { level: gzipLevel }) };
}

/**
 * Groups records the way a trail delivers them: one file per account, region and delivery
 * window, in order of account, region and time. Records keep their order within a file.
 */
export function groupLogFiles(records: Iterable<CloudTrailRecord>, windowMinutes = 5): LogFileGroup[] {
  const groups = new Map<string, { account: string; region: string; deliveredAt: Date; records: CloudTrailRecord[] }>();
  for (const rec of records) {
    const account = rec.recipientAccountId ?? rec.userIdentity?.accountId ?? 'unknown';
    const region = rec.awsRegion ?? HOME_REGION;
    const deliveredAt = deliveryTime(rec.eventTime ?? new Date(0), windowMinutes);
    const id = `${account}\u0000${region}\u0000${deliveredAt.getTime()}`;
    let group = groups.get(id);
    if (!group) {
      group = { account, region, deliveredAt, records: [] };
      groups.set(id, group);
    }
    group.records.push(rec);
  }
  return [...groups.values()].sort(
    (a, b) =>
      a.account.localeCompare(b.account) || a.region.localeCompare(b.region) || a.deliveredAt.getTime() - b.deliveredAt.getTime(),
  );
}

/** Encodes one group as a trail log file object. */
export function logFileObject(group: LogFileGroup, options: { orgId?: string; gzipLevel?: number } = {}): TrailObject {
  const { json, gz } = encodeLogFile(group.records, options.gzipLevel);
  const key = trailObjectKey({
    account: group.account,
    region: group.region,
    deliveredAt: group.deliveredAt,
    suffix: logFileSuffix(json),
    ...(options.orgId ? { orgId: options.orgId } : {}),
  });
  return { kind: 'log', key, body: gz, sha256: createHash('sha256').update(json).digest('hex'), records: group.records.length };
}

interface LoggingState {
  readonly stoppedAt: number;
  readonly startedAt: number;
}

function namesTrail(value: unknown, trailName: string): boolean {
  return typeof value === 'string' && (value === trailName || value.endsWith(`:trail/${trailName}`));
}

/**
 * The periods a trail was not logging, read from its own successful StopLogging and
 * StartLogging records. Each period starts when the file holding StopLogging was delivered.
 */
export function loggingGaps(records: Iterable<CloudTrailRecord>, trailName = DEFAULT_TRAIL_NAME, windowMinutes = 5): LoggingState[] {
  const switches: { at: number; on: boolean }[] = [];
  for (const rec of records) {
    if (rec.errorCode) continue;
    if (rec.eventName !== 'StopLogging' && rec.eventName !== 'StartLogging') continue;
    if (!namesTrail(rec.requestParameters?.name, trailName)) continue;
    const at = Date.parse(rec.eventTime ?? '');
    switches.push({ at: rec.eventName === 'StopLogging' ? deliveryTime(new Date(at), windowMinutes).getTime() : at, on: rec.eventName === 'StartLogging' });
  }
  switches.sort((a, b) => a.at - b.at);
  const gaps: LoggingState[] = [];
  let stoppedAt: number | undefined;
  for (const s of switches) {
    if (!s.on && stoppedAt === undefined) stoppedAt = s.at;
    if (s.on && stoppedAt !== undefined) {
      gaps.push({ stoppedAt, startedAt: s.at });
      stoppedAt = undefined;
    }
  }
  if (stoppedAt !== undefined) gaps.push({ stoppedAt, startedAt: Number.POSITIVE_INFINITY });
  return gaps;
}

function placeholderHex(label: string, chars: number): string {
  let out = '';
  for (let i = 0; out.length < chars; i++) out += createHash('sha256').update(`${label}:${i}`).digest('hex');
  return out.slice(0, chars);
}

/**
 * Builds the hourly digest files of one account and region for the given log files, chained
 * as CloudTrail chains them: each names its predecessor's key, hash and signature, the first
 * after a start (or restart) of logging has those fields null, and no digests are delivered
 * while logging is stopped. Hashes are real SHA-256 over uncompressed content, as AWS computes
 * them. Signatures and key fingerprints are placeholders: they are shaped like AWS's but not
 * made with AWS's private key, so `aws cloudtrail validate-logs` will not accept them.
 */
export function digestObjects(opts: {
  readonly account: string;
  readonly region: string;
  readonly logFiles: readonly TrailObject[];
  readonly logTimes: ReadonlyMap<string, { oldest: string; newest: string; deliveredAt: number }>;
  readonly from: number;
  readonly to: number;
  readonly bucket: string;
  readonly trailName: string;
  readonly homeRegion: string;
  readonly gaps: readonly LoggingState[];
  readonly orgId?: string;
  readonly gzipLevel?: number;
}): TrailObject[] {
  const offset = (createHash('sha256').update(`${opts.account}/${opts.region}`).digest().readUInt32LE(0) % 3600) * 1000;
  const firstTick = Math.floor((opts.from - offset) / HOUR) * HOUR + offset + HOUR;
  const files = [...opts.logFiles].sort(
    (a, b) => (opts.logTimes.get(a.key)?.deliveredAt ?? 0) - (opts.logTimes.get(b.key)?.deliveredAt ?? 0),
  );
  const fingerprint = placeholderHex(`fingerprint:${opts.region}`, 32);
  const out: TrailObject[] = [];
  let previous: { key: string; sha256: string; signature: string } | undefined;
  let cursor = 0;
  let periodStart = opts.from;
  for (let tick = firstTick; tick - HOUR < opts.to; tick += HOUR) {
    const gap = opts.gaps.find((g) => tick >= g.stoppedAt && tick < g.startedAt);
    const final = gap !== undefined && tick - HOUR < gap.stoppedAt;
    if (gap && !final) {
      periodStart = gap.startedAt;
      continue;
    }
    const included: TrailObject[] = [];
    while (cursor < files.length) {
      const file = files[cursor];
      if (!file || (opts.logTimes.get(file.key)?.deliveredAt ?? 0) > tick) break;
      included.push(file);
      cursor++;
    }
    const times = included.map((f) => opts.logTimes.get(f.key));
    const oldest = times.map((t) => t?.oldest ?? '').filter(Boolean).sort()[0] ?? null;
    const newest = times.map((t) => t?.newest ?? '').filter(Boolean).sort().pop() ?? null;
    const loc: DigestFileLocation = {
      account: opts.account,
      region: opts.region,
      trailName: opts.trailName,
      homeRegion: opts.homeRegion,
      endTime: new Date(tick),
      ...(opts.orgId ? { orgId: opts.orgId } : {}),
    };
    const key = digestObjectKey(loc);
    const digest = {
      awsAccountId: opts.account,
      digestStartTime: isoSeconds(new Date(Math.max(tick - HOUR, periodStart))),
      digestEndTime: isoSeconds(new Date(tick)),
      digestS3Bucket: opts.bucket,
      digestS3Object: key,
      digestPublicKeyFingerprint: fingerprint,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: newest,
      oldestEventTime: oldest,
      previousDigestS3Bucket: previous ? opts.bucket : null,
      previousDigestS3Object: previous?.key ?? null,
      previousDigestHashValue: previous?.sha256 ?? null,
      previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
      previousDigestSignature: previous?.signature ?? null,
      logFiles: included.map((f) => ({
        s3Bucket: opts.bucket,
        s3Object: f.key,
        hashValue: f.sha256,
        hashAlgorithm: 'SHA-256',
        newestEventTime: opts.logTimes.get(f.key)?.newest ?? null,
        oldestEventTime: opts.logTimes.get(f.key)?.oldest ?? null,
      })),
    };
    const json = Buffer.from(JSON.stringify(digest));
    const sha256 = createHash('sha256').update(json).digest('hex');
    out.push({ kind: 'digest', key, body: gzipSync(json, { level: opts.gzipLevel ?? 6 }), sha256, records: 0 });
    previous = final ? undefined : { key, sha256, signature: placeholderHex(`signature:${key}`, 512) };
  }
  return out;
}

/**
 * Lays records out as the objects of a trail bucket: gzipped `{"Records":[…]}` log files, one
 * per account, region and five-minute window, and (unless turned off) hourly digest files for
 * every account and region that has a log file, from its first delivery to the last delivery
 * of all (AWS delivers them from the trail's creation on; we start where the records do).
 * Deterministic: the same records always give the same keys and bytes.
 */
export function buildTrailLayout(records: readonly CloudTrailRecord[], options: TrailLayoutOptions = {}): TrailObject[] {
  const windowMinutes = options.windowMinutes ?? 5;
  const trailName = options.trailName ?? DEFAULT_TRAIL_NAME;
  const homeRegion = options.homeRegion ?? HOME_REGION;
  const groups = groupLogFiles(records, windowMinutes);
  const logs: TrailObject[] = [];
  const logTimes = new Map<string, { oldest: string; newest: string; deliveredAt: number }>();
  const byAccountRegion = new Map<string, TrailObject[]>();
  for (const group of groups) {
    const obj = logFileObject(group, { ...(options.orgId ? { orgId: options.orgId } : {}), ...(options.gzipLevel !== undefined ? { gzipLevel: options.gzipLevel } : {}) });
    logs.push(obj);
    const times = group.records.map((r) => r.eventTime ?? '').sort();
    logTimes.set(obj.key, { oldest: times[0] ?? '', newest: times[times.length - 1] ?? '', deliveredAt: group.deliveredAt.getTime() });
    const id = `${group.account}\u0000${group.region}`;
    const list = byAccountRegion.get(id) ?? [];
    list.push(obj);
    byAccountRegion.set(id, list);
  }
  if (options.digests === false || logs.length === 0) return logs;

  const to = Math.max(...groups.map((g) => g.deliveredAt.getTime()));
  const firstAccount = groups[0]?.account ?? 'unknown';
  const bucket = options.bucket ?? `aws-cloudtrail-logs-${firstAccount}-${placeholderHex(`bucket:${firstAccount}`, 8)}`;
  const gaps = loggingGaps(records, trailName, windowMinutes);
  const digests: TrailObject[] = [];
  for (const [id, files] of [...byAccountRegion.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const [account = 'unknown', region = HOME_REGION] = id.split('\u0000');
    const first = Math.min(...files.map((f) => logTimes.get(f.key)?.deliveredAt ?? to));
    digests.push(
      ...digestObjects({
        account,
        region,
        logFiles: files,
        logTimes,
        from: first - windowMinutes * 60_000,
        to,
        bucket,
        trailName,
        homeRegion,
        gaps,
        ...(options.orgId ? { orgId: options.orgId } : {}),
        ...(options.gzipLevel !== undefined ? { gzipLevel: options.gzipLevel } : {}),
      }),
    );
  }
  return [...logs, ...digests];
}

/** Writes one object under `root` at its key, creating folders as needed. */
export function writeTrailObjectSync(root: string, key: string, body: Buffer): void {
  const path = join(root, ...key.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

/**
 * Writes records under `root` as a local copy of a trail bucket (`root/AWSLogs/…`), as
 * `aws s3 sync` of the bucket would leave it. See `buildTrailLayout` for what is written.
 *
 * @example
 * await writeTrailLayout('fixtures/demo', demoScenario());
 */
export async function writeTrailLayout(
  root: string,
  records: readonly CloudTrailRecord[],
  options: TrailLayoutOptions = {},
): Promise<TrailLayoutSummary> {
  const objects = buildTrailLayout(records, options);
  const made = new Set<string>();
  let bytes = 0;
  for (const obj of objects) {
    const path = join(root, ...obj.key.split('/'));
    const dir = dirname(path);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    await writeFile(path, obj.body);
    bytes += obj.body.length;
  }
  return {
    logFiles: objects.filter((o) => o.kind === 'log').length,
    digestFiles: objects.filter((o) => o.kind === 'digest').length,
    records: records.length,
    bytes,
    keys: objects.map((o) => o.key),
  };
}
