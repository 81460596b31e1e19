import { createHash } from 'node:crypto';

const HEX = '0123456789abcdef';
const UPPER_HEX = '0123456789ABCDEF';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** What a seed may be: a number, or any text (hashed into the generator's state). */
export type Seed = number | string;

/**
 * A small seeded pseudo-random generator (sfc32, 128-bit state) with helpers for the ids AWS
 * writes into CloudTrail records. The same seed always yields the same sequence.
 *
 * @example
 * const rng = new Random('demo');
 * rng.accessKeyId('AKIA'); // 'AKIA' + 16 base32 characters, the same on every run
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Seed) {
    const digest = createHash('sha256').update(`trailhound:${String(seed)}`).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12) | 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick needs at least one item');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One element of `[item, weight]` pairs, chosen in proportion to the weights. */
  weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let roll = this.next() * total;
    for (const [item, w] of pairs) {
      roll -= w;
      if (roll < 0) return item;
    }
    const last = pairs[pairs.length - 1];
    if (!last) throw new RangeError('weighted needs at least one pair');
    return last[0];
  }

  /** A derived generator whose sequence depends on this one's seed and `label` only. */
  fork(label: string): Random {
    return new Random(`${this.nextUint32()}:${label}`);
  }

  /** `n` characters drawn from `alphabet`. */
  chars(alphabet: string, n: number): string {
    const codes = new Array<number>(n);
    for (let i = 0; i < n; i++) codes[i] = alphabet.charCodeAt(this.nextUint32() % alphabet.length);
    return String.fromCharCode(...codes);
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    return this.chars(HEX, n);
  }

  /** `n` uppercase hex digits. */
  upperHex(n: number): string {
    return this.chars(UPPER_HEX, n);
  }

  /** `n` characters of [0-9A-Za-z]. */
  alnum(n: number): string {
    return this.chars(ALNUM, n);
  }

  /** A version-4-shaped UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`). */
  uuid(): string {
    const variant = '89ab'[this.nextUint32() % 4] ?? '8';
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }

  /** An access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 base32 characters. */
  accessKeyId(prefix: 'AKIA' | 'ASIA'): string {
    return prefix + this.chars(BASE32, 16);
  }

  /** A unique IAM id such as `AIDA…` (user) or `AROA…` (role): prefix and 17 base32 characters. */
  uniqueId(prefix: 'AIDA' | 'AROA' | 'AGPA' | 'ANPA'): string {
    return prefix + this.chars(BASE32, 17);
  }

  /** A request id as most services write it: a lowercase UUID. */
  requestId(): string {
    return this.uuid();
  }

  /** A request id as Amazon S3 writes it: 16 uppercase hex digits. */
  s3RequestId(): string {
    return this.upperHex(16);
  }

  /** An EC2 instance id: `i-` and 17 hex digits. */
  instanceId(): string {
    return `i-${this.hex(17)}`;
  }

  /** An EC2-style resource id with the given prefix (`r`, `sg`, `vol`, `subnet`, …) and 17 hex digits. */
  resourceId(prefix: string): string {
    return `${prefix}-${this.hex(17)}`;
  }

  /** A base64-looking opaque blob of `length` characters (session tokens, `x-amz-id-2`). */
  blob(length: number): string {
    return this.chars(`${ALNUM}+/`, length);
  }
}

/** Hashes text into a 32-bit unsigned integer; handy for deriving seeds. */
export function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}
