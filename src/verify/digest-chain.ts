/**
 * CloudTrail digest files, as AWS documents them: each lists the log files delivered in an
 * hour with the SHA-256 of their uncompressed content, names its predecessor (key, hash,
 * signature), and is signed with SHA256withRSA over
 * `digestEndTime \n digestS3Bucket/digestS3Object \n hex(sha256(uncompressed digest)) \n previousDigestSignature`.
 */
import { createHash, createPublicKey, verify as verifySignature, constants } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** The fields of a digest file that validation reads. */
export interface DigestContent {
  readonly awsAccountId?: string;
  readonly digestStartTime: string;
  readonly digestEndTime: string;
  readonly digestS3Bucket: string;
  readonly digestS3Object: string;
  readonly digestPublicKeyFingerprint?: string;
  readonly digestSignatureAlgorithm?: string;
  readonly previousDigestS3Bucket?: string | null;
  readonly previousDigestS3Object?: string | null;
  readonly previousDigestHashValue?: string | null;
  readonly previousDigestSignature?: string | null;
  readonly logFiles: ReadonlyArray<{ readonly s3Bucket: string; readonly s3Object: string; readonly hashValue: string; readonly hashAlgorithm?: string }>;
}

/** Uncompresses a file if it is gzip (by its magic bytes), else returns it as is. */
export function inflate(bytes: Buffer): Buffer {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** SHA-256 (hex) of the uncompressed content, as digests record it. */
export function contentHash(bytes: Buffer): string {
  return createHash('sha256').update(inflate(bytes)).digest('hex');
}

/** `contentHash` without blocking the event loop: the gunzip runs on libuv's thread pool. */
export async function contentHashAsync(bytes: Buffer): Promise<string> {
  const isGzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return createHash('sha256').update(isGzip ? await gunzipAsync(bytes) : bytes).digest('hex');
}

/** Reads a digest file's bytes; throws with a short reason when it is not one. */
export function parseDigest(bytes: Buffer): { content: DigestContent; inflatedSha256: string } {
  const inflated = inflate(bytes);
  const content = JSON.parse(inflated.toString('utf8')) as DigestContent;
  for (const field of ['digestStartTime', 'digestEndTime', 'digestS3Bucket', 'digestS3Object'] as const) {
    if (typeof content[field] !== 'string') throw new Error(`no ${field} in it`);
  }
  if (!Array.isArray(content.logFiles)) throw new Error('no logFiles list in it');
  return { content, inflatedSha256: createHash('sha256').update(inflated).digest('hex') };
}

/** The string CloudTrail signs for a digest; a first digest's null previous signature is the text `null`. */
export function stringToSign(content: DigestContent, inflatedSha256: string): string {
  return `${content.digestEndTime}\n${content.digestS3Bucket}/${content.digestS3Object}\n${inflatedSha256}\n${content.previousDigestSignature ?? 'null'}`;
}

/** Whether `signatureHex` is a valid SHA256withRSA signature of the digest by the DER (PKCS#1) public key. */
export function digestSignatureValid(content: DigestContent, inflatedSha256: string, signatureHex: string, publicKeyDer: Buffer): boolean {
  try {
    const key = createPublicKey({ key: publicKeyDer, format: 'der', type: 'pkcs1' });
    return verifySignature('sha256', Buffer.from(stringToSign(content, inflatedSha256)), { key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** The `AWSLogs/…` part of a key, path or URI: how the same file is recognised in a bucket and in a local copy. */
export function trailKey(uriOrPath: string): string | undefined {
  const normal = uriOrPath.replace(/\\/g, '/');
  const at = normal.lastIndexOf('AWSLogs/');
  return at >= 0 ? normal.slice(at) : undefined;
}

/** The trail name and home region in a digest key (`…_CloudTrail-Digest_<region>_<trail>_<home>_<stamp>.json.gz`). */
export function digestTrail(key: string): string {
  const name = key.split('/').pop() ?? '';
  const match = /_CloudTrail-Digest_[^_]+_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_\d{8}T\d{6}Z(?:_backfill)?\.json(?:\.gz)?$/.exec(name);
  return match ? `${match[1]}@${match[2]}` : 'unknown';
}

/** The delivery time in a log file name (`…_CloudTrail_<region>_<yyyymmddThhmmZ>_<suffix>.json.gz`), in ms. */
export function logFileDeliveryTime(key: string): number | undefined {
  const match = /_CloudTrail_[^_]+_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/.exec(key.split('/').pop() ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi);
}
