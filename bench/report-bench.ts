import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { currentLayout } from './bench-store.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { shippedCatalog, shippedSensitiveEvents } from '../src/cli/detect-command.js';
import { runDetections } from '../src/detect/runner.js';
import { Store } from '../src/store/store.js';
import { generateCorpus } from '../synth/corpus.js';
import { DEMO_FACTS } from '../synth/scenario.js';

/**
 * Times `trailhound timeline` (md, html; whole store and scoped to the leaked key) and
 * `trailhound remediate` (whole processes) over a store of the benchmark corpus plus the demo
 * scenario, with detections run, against `trailhound analyze --key` on the same store in the
 * same run: the report's cost on top of the investigation it is built on. Prints figures;
 * never fails on a timing.
 *
 *   npm run bench:report                              # 1M events (+ the demo)
 *   node dist/bench/report-bench.js --events 100000   # smaller
 */
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const DEMO = join(ROOT, 'fixtures', 'demo');

function best(args: readonly string[], runs: number): { seconds: number; times: number[]; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push((performance.now() - started) / 1000);
    if (child.status !== 0) throw new Error(`trailhound ${args.join(' ')} failed:\n${child.stderr}`);
    bytes = Buffer.byteLength(child.stdout);
  }
  return { seconds: Math.min(...times), times, bytes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, corpus: { type: 'string' }, db: { type: 'string' }, runs: { type: 'string', default: '3' } } });
  const events = Number(values.events);
  const runs = Number(values.runs);
  const corpus = resolve(values.corpus ?? `bench/corpus-${events}`);
  const db = resolve(values.db ?? `bench/report-${events}.duckdb`);
  if (!existsSync(join(corpus, 'AWSLogs'))) {
    process.stderr.write(`generating ${events} events under ${corpus} ...\n`);
    await generateCorpus({ events, files: Math.max(1, Math.round(events / 500)), out: corpus });
  }
  if (existsSync(db) && !(await currentLayout(db))) {
    process.stderr.write(`${db} was made by an older layout; loading it again ...\n`);
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
  }
  if (!existsSync(db)) {
    process.stderr.write(`loading ${corpus} and the demo scenario into ${db}, then running the detections ...\n`);
    const store = await Store.open(db, { memoryLimit: '1GB' });
    await ingestFiles({ store, paths: [corpus, DEMO] });
    await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
    store.close();
  }
  const store = await Store.open(db, { readOnly: true });
  const total = (await store.one<{ n: number }>('select count(*)::bigint as n from events'))?.n ?? 0;
  const findings = (await store.one<{ n: number }>('select count(*)::bigint as n from findings'))?.n ?? 0;
  store.close();

  const key = DEMO_FACTS.leakedKeyId;
  const pinned = ['--generated-at', '2026-03-06T12:00:00Z', '--contained-at', '2026-03-06T12:00:00Z'];
  best(['analyze', '--db', db, '--key', key, '--format', 'json'], 1); // warm the file cache
  const cases: Array<[string, string[]]> = [
    ['analyze --key (baseline)', ['analyze', '--db', db, '--key', key, '--format', 'json']],
    ['timeline --format md (whole store)', ['timeline', '--db', db, ...pinned]],
    ['timeline --format html (whole store)', ['timeline', '--db', db, '--format', 'html', ...pinned]],
    ['timeline --key --format html', ['timeline', '--db', db, '--key', key, '--format', 'html', ...pinned]],
    ['timeline --key --format jsonl', ['timeline', '--db', db, '--key', key, '--format', 'jsonl', ...pinned]],
    ['remediate --format sh (whole store)', ['remediate', '--db', db, '--format', 'sh', '--contained-at', '2026-03-06T12:00:00Z']],
  ];
  const results = cases.map(([name, args]) => ({ name, ...best(args, runs) }));
  const base = results[0]!.seconds;
  process.stdout.write(`timeline and remediate over ${Number(total).toLocaleString('en-US')} events, ${findings} findings (whole process, best of ${runs}):\n`);
  for (const r of results) {
    process.stdout.write(`  ${r.name.padEnd(40)} ${r.seconds.toFixed(2).padStart(6)} s  ${(r.seconds / base).toFixed(2)}x  ${(r.bytes / 1024).toFixed(0).padStart(5)} KiB out  (runs: ${r.times.map((t) => t.toFixed(2)).join(', ')})\n`);
  }
}

await main();
