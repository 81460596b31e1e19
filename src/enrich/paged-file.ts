import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** How much of the file one read brings in. */
const PAGE = 16 * 1024;

/** The reads of a Buffer that mmdb-lib makes, with the bytes each takes. */
const FIXED_READS: Readonly<Record<string, number>> = Object.freeze( { readUInt8: 1, readUInt16BE: 2, readUInt32BE: 4, readInt32BE: 4, readFloatBE: 4, readDoubleBE: 8 });

/**
 * A file as a Buffer that reads its pages from disk as they are touched: a few address
 * lookups in a 63 MB MMDB file touch a few hundred kilobytes of it, and reading it whole
 * took 0.2 s. Only what mmdb-lib uses is there (byte access, `length`, the big-endian reads
 * it makes, `subarray`/`slice`/`toString`); anything else throws, so a reader that needs more
 * fails loudly instead of reading wrong bytes. The file stays open until `close`.
 */
export function pagedBuffer(path: string): { readonly buffer: Buffer; close(): void } {
  let fd: number | undefined = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const pages = new Map<number, Buffer>();
  const page = (n: number): Buffer => {
    let p = pages.get(n);
    if (!p) {
      if (fd === undefined) throw new Error(`${path} was closed`);
      p = Buffer.alloc(Math.min(PAGE, size - n * PAGE));
      readSync(fd, p, 0, p.length, n * PAGE);
      pages.set(n, p);
    }
    return p;
  };
  const byteAt = (i: number): number | undefined => (i >= 0 && i < size ? page(Math.floor(i / PAGE))[i % PAGE] : undefined);
  const bytes = (start: number, end: number): Buffer => {
    const from = Math.max(0, Math.min(size, start));
    const to = Math.max(from, Math.min(size, end));
    const out = Buffer.alloc(to - from);
    for (let at = from; at < to; ) {
      const p = page(Math.floor(at / PAGE));
      const offset = at % PAGE;
      const n = Math.min(p.length - offset, to - at);
      p.copy(out, at - from, offset, offset + n);
      at += n;
    }
    return out;
  };
  const range = (start = 0, end = size) => bytes(start < 0 ? size + start : start, end < 0 ? size + end : end);
  const buffer = new Proxy(Buffer.alloc(0), {
    get(target, name) {
      if (typeof name === 'string') {
        if (/^\d+$/.test(name)) return byteAt(Number(name));
        if (name === 'length' || name === 'byteLength') return size;
        const width = Object.hasOwn(FIXED_READS, name) ? FIXED_READS[name]! : undefined;
        if (width !== undefined) return (offset: number) => (bytes(offset, offset + width) as unknown as Record<string, (o: number) => number>)[name]!(0);
        if (name === 'readUIntBE' || name === 'readIntBE') return (offset: number, n: number) => bytes(offset, offset + n)[name](0, n);
        if (name === 'subarray' || name === 'slice') return range;
        if (name === 'toString') return (encoding?: BufferEncoding, start = 0, end = size) => bytes(start, end).toString(encoding);
        throw new Error(`the paged view of ${path} has no ${name}`);
      }
      return Reflect.get(target, name);
    },
  });
  return {
    buffer,
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      pages.clear();
    },
  };
}
