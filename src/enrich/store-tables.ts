import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { Store } from '../store/store.js';
import { isExternal } from './address.js';
import { defaultEnricher, type AddressEnricher } from './enricher.js';
import { classifyUserAgent } from './user-agents.js';

/** What {@link prepareEnrichment} did: how many distinct values it looked up, and how long it took. */
export interface EnrichmentStats {
  readonly addresses: number;
  readonly userAgents: number;
  readonly seconds: number;
}

/**
 * Fills the temporary tables `address_info` (one row per distinct `sourceipaddress` in the
 * store: kind, external, ASN, organisation, country, city, coordinates, accuracy, AWS-owned,
 * hosting) and `user_agent_info` (one row per distinct `useragent`: its class) for the
 * detections that use geography, ownership or client class. Each distinct value is looked up
 * once per run, never per event; nothing is written to the store itself.
 */
export async function prepareEnrichment(store: Store, enricher: AddressEnricher = defaultEnricher()): Promise<EnrichmentStats> {
  const started = performance.now();
  // One column read as such: row objects for hundreds of thousands of addresses cost more than the lookups.
  const read = await store.connection.runAndReadAll(`select distinct sourceipaddress from events where sourceipaddress is not null`);
  const addresses = (read.getColumnsJS()[0] ?? []) as string[];
  // Addresses of one network share one enrichment (a profile): each profile is written once,
  // each address as its profile's number, then the two are joined in DuckDB. Writing every
  // field of every address through the appender cost more than looking them up.
  await store.run(
    `create or replace temp table address_profiles (
       profile integer, kind varchar, external boolean, asn bigint, as_org varchar, country varchar, city varchar,
       latitude double, longitude double, accuracy_km double, aws_owned boolean, hosting varchar)`,
  );
  await store.run(`create or replace temp table address_profile_of (address varchar, profile integer)`);
  const profiles = await store.connection.createAppender('address_profiles', 'main', 'temp');
  const owners = await store.connection.createAppender('address_profile_of', 'main', 'temp');
  const text = (v: string | null) => (v === null ? profiles.appendNull() : profiles.appendVarchar(v));
  const number = (v: number | null) => (v === null ? profiles.appendNull() : profiles.appendDouble(v));
  // kind and ASN → location record (the same object for one network) → profile number
  const known = new Map<string, Map<object | null, number>>();
  let count = 0;
  try {
    for (const address of addresses) {
      const parts = enricher.parts(address);
      const key = `${parts.kind}\u0001${parts.asn?.asn ?? ''}\u0001${parts.asn?.org ?? ''}`;
      let byGeo = known.get(key);
      if (!byGeo) known.set(key, (byGeo = new Map()));
      let profile = byGeo.get(parts.geo);
      if (profile === undefined) {
        profile = count++;
        byGeo.set(parts.geo, profile);
        const i = enricher.describe(address, parts);
        profiles.appendInteger(profile);
        profiles.appendVarchar(i.kind);
        profiles.appendBoolean(isExternal(i.kind));
        if (i.asn === null) profiles.appendNull();
        else profiles.appendBigInt(BigInt(i.asn));
        text(i.asOrg);
        text(i.country);
        text(i.city);
        number(i.latitude);
        number(i.longitude);
        number(i.accuracyKm);
        profiles.appendBoolean(i.awsOwned);
        text(i.hosting);
        profiles.endRow();
      }
      owners.appendVarchar(address);
      owners.appendInteger(profile);
      owners.endRow();
    }
    profiles.flushSync();
    owners.flushSync();
  } finally {
    profiles.closeSync();
    owners.closeSync();
  }
  await store.run(
    `create or replace temp table address_info as
     select o.address, p.kind, p.external, p.asn, p.as_org, p.country, p.city, p.latitude, p.longitude, p.accuracy_km, p.aws_owned, p.hosting
     from address_profile_of o join address_profiles p using (profile)`,
  );
  await store.run('drop table temp.address_profile_of');
  await store.run('drop table temp.address_profiles');
  const agents = (await store.all<{ u: string }>(`select distinct useragent as u from events where useragent is not null`)).map((r) => r.u);
  await store.run(
    `create or replace temp table user_agent_info as
     select unnest($agent) as useragent, unnest($class) as class`,
    { agent: listValue(agents), class: listValue(agents.map((a) => classifyUserAgent(a))) },
    { agent: LIST(VARCHAR), class: LIST(VARCHAR) },
  );
  return { addresses: addresses.length, userAgents: agents.length, seconds: (performance.now() - started) / 1000 };
}
