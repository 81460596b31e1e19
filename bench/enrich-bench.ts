import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { AddressEnricher } from '../src/enrich/enricher.js';
import { prepareEnrichment } from '../src/enrich/store-tables.js';
import { Store } from '../src/store/store.js';
import { generateCorpus } from '../synth/corpus.js';

/**
 * The cost of offline enrichment against the cost of loading the same events, measured in
 * the same run: the benchmark corpus is ingested into a fresh store (the baseline), then
 * `prepareEnrichment` looks up every distinct address and user agent of the store (cold: the
 * databases open inside the timing). Then the hard cases: the store tables for many distinct
 * public addresses, each in its own network (default 1,000,000), and many distinct public
 * addresses (default 100,000) looked up one by one. Prints figures; never fails on a timing.
 *
 *   npm run bench:enrich                                  # 1M events, 100k addresses
 *   npm run bench:enrich -- --events 10000000
 *   npm run bench:enrich -- --hard-only                   # the hard cases alone
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, corpus: { type: 'string' }, addresses: { type: 'string', default: '100000' }, 'hard-addresses': { type: 'string', default: '1000000' }, 'hard-only': { type: 'boolean', default: false } } });
  const events = Number(values.events);
  if (!values['hard-only']) await storeCase(events, values.corpus);
  await hardCases(Number(values['hard-addresses']), Number(values.addresses));
}

/** The benchmark corpus ingested (the baseline), then its store's enrichment tables filled, cold. */
async function storeCase(events: number, corpusPath: string | undefined): Promise<void> {
  const corpus = resolve(corpusPath ?? `bench/corpus-${events}`);
  if (!existsSync(join(corpus, 'AWSLogs'))) {
    process.stderr.write(`generating ${events} events under ${corpus} ...\n`);
    await generateCorpus({ events, files: Math.max(1, Math.round(events / 500)), out: corpus });
  }
  const db = resolve(`bench/enrich-${events}.duckdb`);
  rmSync(db, { force: true });
  rmSync(`${db}.wal`, { force: true });
  const store = await Store.open(db, { memoryLimit: '1GB' });
  try {
    let started = performance.now();
    const loaded = await ingestFiles({ store, paths: [corpus] });
    const ingestSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const stats = await prepareEnrichment(store, new AddressEnricher());
    const enrichSeconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `ingest of ${loaded.eventsLoaded.toLocaleString('en-US')} events: ${ingestSeconds.toFixed(2)} s (baseline)\n` +
        `enrichment of the store's ${stats.addresses.toLocaleString('en-US')} distinct addresses and ${stats.userAgents.toLocaleString('en-US')} user agents, databases opened cold: ` +
        `${enrichSeconds.toFixed(2)} s = ${((enrichSeconds / ingestSeconds) * 100).toFixed(1)} % of the ingest\n`,
    );
  } finally {
    store.close();
    rmSync(db, { force: true });
  }
}

/** The hard cases, with the databases warm. */
async function hardCases(hard: number, count: number): Promise<void> {
  // The hard case for the store tables: every address public and in its own network, so
  // neither the private-address shortcut nor networks shared by many addresses help. The
  // benchmark corpus mostly writes private 10.x addresses, which cost little to enrich.
  const spread = await Store.open(':memory:');
  try {
    const firsts = Array.from({ length: 223 }, (_, i) => i + 1).filter((o) => ![10, 100, 127, 169, 172, 192, 198, 203].includes(o));
    await spread.run(
      `create temp table events as
       select (list_value(${firsts.join(', ')}))[1 + (i % ${firsts.length})] || '.' || ((i // ${firsts.length}) % 256) || '.' || ((i * 7) % 256) || '.' || (1 + (i * 13) % 254) as sourceipaddress,
              null::varchar as useragent
       from range(${hard}) t(i)`,
    );
    const enricher = warmEnricher();
    const started = performance.now();
    const stats = await prepareEnrichment(spread, enricher);
    const seconds = (performance.now() - started) / 1000;
    const profiles = await spread.one<{ n: bigint }>(`select count(distinct (asn, country, city, latitude, longitude)) as n from address_info`);
    process.stdout.write(
      `store tables for ${stats.addresses.toLocaleString('en-US')} distinct public addresses in distinct networks (${Number(profiles?.n ?? 0).toLocaleString('en-US')} distinct enrichments), databases warm: ` +
        `${seconds.toFixed(2)} s (${((seconds / stats.addresses) * 1e6).toFixed(1)} µs each)\n`,
    );
  } finally {
    spread.close();
  }
  // Lookups alone: an account hit from many distinct addresses (a scan, a botnet, a noisy SaaS).
  const enricher = warmEnricher();
  const started = performance.now();
  for (let i = 0; i < count; i++) enricher.lookup(`${1 + (i % 223)}.${(i * 7) % 256}.${(i >> 8) % 256}.${(i * 13) % 254 + 1}`);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${count.toLocaleString('en-US')} distinct public IPv4 addresses, databases warm: ${seconds.toFixed(2)} s (${((seconds / count) * 1e6).toFixed(1)} µs each)\n`);
}

/** An enricher with both databases open and the ASN table parsed (that happens after the first few hundred lookups). */
function warmEnricher(): AddressEnricher {
  const enricher = new AddressEnricher();
  enricher.lookup('2001:4860:4860::8888');
  for (let i = 0; i < 300; i++) enricher.lookup(`8.8.${i % 256}.${1 + (i >> 8)}`);
  return enricher;
}

await main();
