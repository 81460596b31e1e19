import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import { JsonDepthMeter } from '../core/json.js';
import { sniff, type Sniffed } from './sniff.js';

/** What trailhound learned about a local file before loading it. */
export interface ProbedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly gzip: boolean;
  /** Decompressed size (of every gzip member, counted while inflating). */
  readonly estimatedBytes: number;
  /** How deeply the whole file's JSON nests (brackets in strings do not count), measured as it was read; absent for a plain file too large to hold. */
  readonly depth?: number;
  readonly sniffed: Sniffed;
}

/** Limits a probe enforces. */
export interface ProbeLimits {
  /** Largest decompressed file trailhound will load. */
  readonly maxFileBytes: number;
}

const HEAD_PLAIN = 64 * 1024;
// 4 KiB of deflate inflates to at most ~4 MiB, so the peek itself cannot be a bomb.
const HEAD_GZIP = 4 * 1024;
const CHUNK = 1024 * 1024;
// Files up to this size are read into memory once (CloudTrail's are a few MiB at most).
const IN_MEMORY = 64 * 1024 * 1024;
// JSON compresses 10-30x; past this ratio a small file is a decompression bomb, not a log.
const MAX_RATIO = 200;

/** Reads a file once: sha256 of its bytes, gzip or not, a look at its start, and its likely decompressed size. */
export async function probeFile(path: string, limits: ProbeLimits): Promise<ProbedFile> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    let head: Buffer = Buffer.alloc(0);
    let tail: Buffer = Buffer.alloc(0);
    // A file of ordinary size is read whole and inflated from memory: read a second time from
    // disk and inflated 16 KiB at a time, the probe took twice as long (2.8 s per million events).
    let whole: Buffer | undefined;
    if ((await handle.stat()).size <= IN_MEMORY) {
      whole = await handle.readFile();
      hash.update(whole);
      size = whole.length;
      head = whole.subarray(0, HEAD_PLAIN);
      tail = whole.subarray(Math.max(0, size - 4));
    } else {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        if (head.length < HEAD_PLAIN) head = Buffer.concat([head, chunk.subarray(0, HEAD_PLAIN - head.length)]);
        tail = bytesRead >= 4 ? Buffer.from(chunk.subarray(bytesRead - 4)) : Buffer.concat([tail, chunk]).subarray(-4);
        size += bytesRead;
      }
    }
    const sha256 = hash.digest('hex');
    const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    if (!gzip) {
      if (size > limits.maxFileBytes) return { path, size, sha256, gzip, estimatedBytes: size, sniffed: tooLarge(size, limits, `${size} bytes`) };
      const depth = whole ? measureDepth(whole) : undefined;
      return { path, size, sha256, gzip, estimatedBytes: size, ...(depth === undefined ? {} : { depth }), sniffed: sniff(head.toString('utf8')) };
    }
    let text: string;
    try {
      text = gunzipSync(head.subarray(0, HEAD_GZIP), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
    } catch (error) {
      const reason = `not valid gzip (${(error as Error).message}); re-download the file`;
      return { path, size, sha256, gzip, estimatedBytes: size, sniffed: { kind: 'skip', reason } };
    }
    // The gzip trailer's ISIZE cannot be trusted: it is the length modulo 2^32, and of the last
    // member only, so a file of two members (a bomb, then a small member) would pass under the
    // limit. The file is inflated once, counting bytes, and the count stops at the limit.
    const meter = new JsonDepthMeter();
    const measured = await measureGzip(whole ?? path, limits.maxFileBytes, meter);
    if (measured.error) {
      const reason = `truncated or corrupt gzip (${measured.error}); re-download the file`;
      return { path, size, sha256, gzip, estimatedBytes: size, sniffed: { kind: 'skip', reason } };
    }
    if (measured.bytes > limits.maxFileBytes) {
      // The count stops at the limit, so the trailer's length (a hint only) may tell the ratio better.
      const isize = tail.length === 4 ? tail.readUInt32LE(0) : 0;
      const bomb = Math.max(measured.bytes, isize) / size > MAX_RATIO ? ' (a decompression bomb, not a CloudTrail log)' : '';
      return { path, size, sha256, gzip, estimatedBytes: measured.bytes, sniffed: tooLarge(measured.bytes, limits, `more than ${limits.maxFileBytes} bytes${bomb}`) };
    }
    const estimatedBytes = measured.bytes;
    return { path, size, sha256, gzip, estimatedBytes, depth: meter.max, sniffed: sniff(text) };
  } finally {
    await handle.close();
  }
}

function tooLarge(_bytes: number, limits: ProbeLimits, what: string): Sniffed {
  return {
    kind: 'skip',
    reason: `decompresses to ${what}, over the ${limits.maxFileBytes}-byte limit; raise --max-file-mb if the file is genuine (loading takes about 16 times its size of --memory-limit)`,
  };
}

function measureDepth(bytes: Buffer): number {
  const meter = new JsonDepthMeter();
  meter.push(bytes);
  return meter.max;
}

/** Inflates gzip bytes (in memory, or a file's) without keeping them, stopping once past `cap` bytes; `meter` reads the text on the way. */
async function measureGzip(source: Buffer | string, cap: number, meter: JsonDepthMeter): Promise<{ bytes: number; error?: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let done = false;
    const inflate = createGunzip({ chunkSize: CHUNK });
    const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: CHUNK }) : undefined;
    const finish = (result: { bytes: number; error?: string }) => {
      if (done) return;
      done = true;
      input?.destroy();
      inflate.destroy();
      resolve(result);
    };
    inflate.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > cap) finish({ bytes });
      else meter.push(chunk);
    });
    inflate.on('end', () => finish({ bytes }));
    inflate.on('error', (error) => finish({ bytes, error: error.message }));
    if (input) {
      input.on('error', (error) => finish({ bytes, error: error.message }));
      input.pipe(inflate);
    } else {
      inflate.end(source);
    }
  });
}
