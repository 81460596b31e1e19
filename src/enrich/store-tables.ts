import { BIGINT, BOOLEAN, DOUBLE, LIST, VARCHAR, listValue } from '@duckdb/node-api';
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
  const addresses = (await store.all<{ a: string }>(`select distinct sourceipaddress as a from events where sourceipaddress is not null`)).map((r) => r.a);
  const infos = addresses.map((a) => enricher.lookup(a));
  await store.run(
    `create or replace temp table address_info as
     select unnest($address) as address, unnest($kind) as kind, unnest($external) as external,
            unnest($asn) as asn, unnest($org) as as_org, unnest($country) as country, unnest($city) as city,
            unnest($lat) as latitude, unnest($lon) as longitude, unnest($accuracy) as accuracy_km,
            unnest($aws) as aws_owned, unnest($hosting) as hosting`,
    {
      address: listValue(infos.map((i) => i.address)),
      kind: listValue(infos.map((i) => i.kind)),
      external: listValue(infos.map((i) => isExternal(i.kind))),
      asn: listValue(infos.map((i) => (i.asn === null ? null : BigInt(i.asn)))),
      org: listValue(infos.map((i) => i.asOrg)),
      country: listValue(infos.map((i) => i.country)),
      city: listValue(infos.map((i) => i.city)),
      lat: listValue(infos.map((i) => i.latitude)),
      lon: listValue(infos.map((i) => i.longitude)),
      accuracy: listValue(infos.map((i) => i.accuracyKm)),
      aws: listValue(infos.map((i) => i.awsOwned)),
      hosting: listValue(infos.map((i) => i.hosting)),
    },
    {
      address: LIST(VARCHAR), kind: LIST(VARCHAR), external: LIST(BOOLEAN), asn: LIST(BIGINT), org: LIST(VARCHAR), country: LIST(VARCHAR), city: LIST(VARCHAR),
      lat: LIST(DOUBLE), lon: LIST(DOUBLE), accuracy: LIST(DOUBLE), aws: LIST(BOOLEAN), hosting: LIST(VARCHAR),
    },
  );
  const agents = (await store.all<{ u: string }>(`select distinct useragent as u from events where useragent is not null`)).map((r) => r.u);
  await store.run(
    `create or replace temp table user_agent_info as
     select unnest($agent) as useragent, unnest($class) as class`,
    { agent: listValue(agents), class: listValue(agents.map((a) => classifyUserAgent(a))) },
    { agent: LIST(VARCHAR), class: LIST(VARCHAR) },
  );
  return { addresses: addresses.length, userAgents: agents.length, seconds: (performance.now() - started) / 1000 };
}
