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
  const addresses = (await store.all<{ a: string }>(`select distinct sourceipaddress as a from events where sourceipaddress is not null`)).map((r) => r.a);
  await store.run(
    `create or replace temp table address_info (
       address varchar, kind varchar, external boolean, asn bigint, as_org varchar, country varchar, city varchar,
       latitude double, longitude double, accuracy_km double, aws_owned boolean, hosting varchar)`,
  );
  // An appender, not list parameters: 440k distinct addresses took 20 s as lists, a few as rows.
  const appender = await store.connection.createAppender('address_info', 'main', 'temp');
  const text = (v: string | null) => (v === null ? appender.appendNull() : appender.appendVarchar(v));
  const number = (v: number | null) => (v === null ? appender.appendNull() : appender.appendDouble(v));
  try {
    for (const address of addresses) {
      const i = enricher.lookup(address);
      appender.appendVarchar(i.address);
      appender.appendVarchar(i.kind);
      appender.appendBoolean(isExternal(i.kind));
      if (i.asn === null) appender.appendNull();
      else appender.appendBigInt(BigInt(i.asn));
      text(i.asOrg);
      text(i.country);
      text(i.city);
      number(i.latitude);
      number(i.longitude);
      number(i.accuracyKm);
      appender.appendBoolean(i.awsOwned);
      text(i.hosting);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const agents = (await store.all<{ u: string }>(`select distinct useragent as u from events where useragent is not null`)).map((r) => r.u);
  await store.run(
    `create or replace temp table user_agent_info as
     select unnest($agent) as useragent, unnest($class) as class`,
    { agent: listValue(agents), class: listValue(agents.map((a) => classifyUserAgent(a))) },
    { agent: LIST(VARCHAR), class: LIST(VARCHAR) },
  );
  return { addresses: addresses.length, userAgents: agents.length, seconds: (performance.now() - started) / 1000 };
}
