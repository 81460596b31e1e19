import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../core/version.js';
import { CatalogError } from '../detect/catalog.js';
import { classifyAddress, isExternal, type AddressKind } from './address.js';
import { openDatabases, type AsnRecord, type DatabaseInfo, type EnrichmentDatabases, type GeoRecord } from './databases.js';

/** What trailhound knows of one source address, offline. */
export interface AddressInfo {
  readonly address: string;
  readonly kind: AddressKind;
  readonly asn: number | null;
  readonly asOrg: string | null;
  /** ISO 3166 alpha-2. */
  readonly country: string | null;
  readonly city: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly accuracyKm: number | null;
  /** Inside AWS: an AWS service name, `AWS Internal`, or an address of an AWS autonomous system. */
  readonly awsOwned: boolean;
  /** The hosting provider (from queries/networks.yml) the address belongs to, if any. */
  readonly hosting: string | null;
}

interface NetworkRule {
  readonly org: RegExp;
  readonly why: string;
}

/** The AWS and hosting networks of queries/networks.yml. */
export interface NetworkRules {
  readonly aws: readonly NetworkRule[];
  readonly hosting: readonly NetworkRule[];
}

/** Loads queries/networks.yml: organisation patterns for AWS and for hosting providers, each with a reason. */
export function loadNetworkRules(path = join(packageRoot(), 'queries', 'networks.yml')): NetworkRules {
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const list = (key: string): NetworkRule[] => {
    const entries = doc?.[key];
    if (!Array.isArray(entries)) throw new CatalogError(`${path}: expected a list under "${key}"`);
    return entries.map((e: Record<string, unknown>, i) => {
      if (typeof e?.['org'] !== 'string' || typeof e['why'] !== 'string') throw new CatalogError(`${path}: ${key} entry ${i + 1} needs org and why`);
      return { org: new RegExp(e['org'], 'i'), why: e['why'] };
    });
  };
  return { aws: list('aws'), hosting: list('hosting') };
}

/**
 * Enriches addresses from the offline databases, each distinct address once: kind, ASN and
 * organisation, country, city and coordinates, whether AWS owns it, whether it is a hosting
 * provider's. Lookups are memoised; the databases open on first use.
 */
export class AddressEnricher {
  private readonly cache = new Map<string, AddressInfo>();
  /** AWS ownership and hosting per organisation name: a few thousand names, hundreds of thousands of addresses. */
  private readonly orgs = new Map<string, { aws: boolean; hosting: string | null }>();
  readonly databases: EnrichmentDatabases;
  private readonly networks: NetworkRules;

  constructor(databases: EnrichmentDatabases = openDatabases(), networks: NetworkRules = loadNetworkRules()) {
    this.databases = databases;
    this.networks = networks;
  }

  /** The databases in use, for the docs and the coverage sections. */
  sources(): DatabaseInfo[] {
    return [this.databases.asn?.info, this.databases.geo?.info].filter((i): i is DatabaseInfo => !!i);
  }

  lookup(address: string): AddressInfo {
    const known = this.cache.get(address);
    if (known) return known;
    const info = this.describe(address, this.parts(address));
    this.cache.set(address, info);
    return info;
  }

  /**
   * What an address's enrichment is made of, without memoising it: its kind, and its ASN and
   * location records. Addresses of one network get the same location record (the same
   * object), so callers enriching many addresses can share the rest of the work.
   */
  parts(address: string): AddressParts {
    const kind = classifyAddress(address);
    const external = isExternal(kind);
    return {
      kind,
      asn: external ? (this.databases.asn?.lookup(address) ?? null) : null,
      geo: external ? (this.databases.geo?.lookup(address) ?? null) : null,
    };
  }

  /** The enrichment of `address` from its {@link parts}. */
  describe(address: string, { kind, asn, geo }: AddressParts): AddressInfo {
    const org = asn?.org ?? null;
    let flags = org === null ? undefined : this.orgs.get(org);
    if (org !== null && !flags) {
      flags = { aws: this.networks.aws.some((r) => r.org.test(org)), hosting: this.networks.hosting.some((r) => r.org.test(org)) ? org : null };
      this.orgs.set(org, flags);
    }
    const info: AddressInfo = {
      address,
      kind,
      asn: asn?.asn ?? null,
      asOrg: org,
      country: geo?.country ?? null,
      city: geo?.city ?? null,
      latitude: geo?.latitude ?? null,
      longitude: geo?.longitude ?? null,
      accuracyKm: geo?.accuracyKm ?? null,
      awsOwned: kind === 'aws-service' || kind === 'aws-internal' || !!flags?.aws,
      hosting: flags?.hosting ?? null,
    };
    return info;
  }
}

/** An address's kind and database records, before they are turned into an {@link AddressInfo}. */
export interface AddressParts {
  readonly kind: AddressKind;
  readonly asn: AsnRecord | null;
  readonly geo: GeoRecord | null;
}

let shared: AddressEnricher | undefined;

/** One enricher for the process: over the packaged databases, or the files {@link useDatabases} named. */
export function defaultEnricher(): AddressEnricher {
  return (shared ??= new AddressEnricher());
}

/** Makes the process's enricher read these database files (`--geoip-db`, `--asn-db`) instead of the packaged data. */
export function useDatabases(options: { asnDb?: string; geoipDb?: string }): AddressEnricher {
  shared = new AddressEnricher(openDatabases(options));
  return shared;
}
