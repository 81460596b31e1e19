import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCatalog, loadSensitiveEvents, type Detection } from '../src/detect/catalog.js';
import { detect, evaluate, prepareReference } from '../src/detect/runner.js';
import { loadSigmaRules } from '../src/sigma/loader.js';
import { Store } from '../src/store/store.js';
import { ensureBenchStore } from './bench-store.js';

/**
 * Sigma rules against the built-in detections over the benchmark store, in the same run:
 * the whole detect run of each set (what `trailhound detect` does) divided by its number of
 * rules, and each rule alone. Prints figures and ratios; never fails on a timing.
 *
 *   npm run bench:sigma                                  # 1M events, ../shared/datasets/sigma-cloudtrail
 *   node dist/bench/sigma-bench.js --events 200000 --rules path/to/sigma/rules/cloud/aws/cloudtrail
 */
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

/** Each detection alone: seconds per detection, best of `runs`. */
async function each(store: Store, detections: readonly Detection[], runs: number): Promise<number[]> {
  const seconds: number[] = [];
  for (const d of detections) {
    let best = Infinity;
    for (let r = 0; r < runs; r++) best = Math.min(best, (await timed(() => evaluate(store, d)))[1]);
    seconds.push(best);
  }
  return seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { events: { type: 'string', default: '1000000' }, corpus: { type: 'string' }, db: { type: 'string' }, rules: { type: 'string' }, runs: { type: 'string', default: '3' } },
  });
  const events = Number(values.events);
  const rules = resolve(values.rules ?? join(ROOT, '..', 'shared', 'datasets', 'sigma-cloudtrail'));
  if (!existsSync(rules)) {
    process.stdout.write(`no Sigma rules at ${rules}: pass --rules (a clone of SigmaHQ/sigma, rules/cloud/aws/cloudtrail)\n`);
    return;
  }
  const corpus = resolve(values.corpus ?? `bench/corpus-${events}`);
  const db = resolve(values.db ?? `bench/detect-${events}.duckdb`);
  await ensureBenchStore(events, corpus, db);
  const sigma = loadSigmaRules([rules]);
  const builtin = loadCatalog(join(ROOT, 'queries'));
  const sensitive = loadSensitiveEvents(join(ROOT, 'queries', 'sensitive-events.yml'));
  const runs = Number(values.runs);
  const store = await Store.open(db, { memoryLimit: '2GB' });
  try {
    const whole = async (detections: readonly Detection[]) => {
      let best = Infinity;
      let matches = 0;
      let alerts = 0;
      let failures = 0;
      for (let r = 0; r < runs; r++) {
        const [result, s] = await timed(() => detect(store, detections, { sensitive, catalog: builtin }));
        best = Math.min(best, s);
        matches = result.matches;
        alerts = result.alerts.count;
        failures = result.failures.length;
      }
      return { best, matches, alerts, failures };
    };
    const b = await whole(builtin);
    const s = await whole(sigma.detections);
    const perB = b.best / builtin.length;
    const perS = s.best / sigma.detections.length;
    const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
    process.stdout.write(
      `store: ${db} (${events.toLocaleString('en-US')} events)\n` +
        `Sigma rules: ${sigma.detections.length} translated, ${sigma.untranslated.length} not (${rules})\n` +
        `whole run, best of ${runs}: built-in ${builtin.length} detections ${b.best.toFixed(2)} s (${b.matches} matches, ${b.alerts} alerts, ${b.failures} failed), ${ms(perB)} per detection; ` +
        `Sigma ${sigma.detections.length} rules ${s.best.toFixed(2)} s (${s.matches} matches, ${s.alerts} alerts, ${s.failures} failed), ${ms(perS)} per rule; ratio Sigma/built-in per rule ${(perS / perB).toFixed(2)}\n`,
    );
    // A detection alone reads the sensitive-calls table that a whole run prepares and drops.
    await prepareReference(store, builtin, sensitive);
    const eachB = await each(store, builtin, 1);
    const eachS = await each(store, sigma.detections, 1);
    process.stdout.write(
      `each alone (no shared prefilter): built-in median ${ms(median(eachB))}, max ${ms(Math.max(...eachB))}; ` +
        `Sigma median ${ms(median(eachS))}, max ${ms(Math.max(...eachS))}; ratio of medians ${(median(eachS) / median(eachB)).toFixed(2)}\n`,
    );
  } finally {
    store.close();
  }
}

await main();
