import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBenchStore } from './bench-store.js';

/**
 * Times `trailhound detect` (the whole process: start, open the store, every detection,
 * storing findings) over a store of the benchmark corpus, with the process's peak memory.
 * `--noisy` also measures, in the same run, a store of the same size whose account is noisy
 * (30 % of its events are key creations, policy attachments and GPU launches: the hard case,
 * where raw matches run to the hundreds of thousands), and prints it as a ratio to the
 * ordinary store. Each run works on a fresh copy of the loaded store (copied before the clock
 * starts): a run stores its findings, and on a store holding those of earlier runs detect
 * also pays for them when it writes its own (its checkpoint took up to 1.9 s more after 13
 * runs), so runs on one store would not measure the same thing. Prints figures; never fails
 * on a timing.
 *
 *   npm run bench:detect                               # 1M events
 *   node dist/bench/detect-bench.js --noisy --runs 1   # and the noisy account beside it
 */
const RUNNER = join(fileURLToPath(new URL('.', import.meta.url)), 'rss-run.js');

interface Measured {
  readonly seconds: number;
  /** Every run's time, in order. */
  readonly times: readonly number[];
  readonly peakMiB: number;
  readonly detections: number;
  readonly alerts: number;
  readonly matches: number;
}

function measure(db: string, runs: number): Measured {
  const times: number[] = [];
  let peak = 0;
  let last: { detections: number; matches: number; findings: unknown[] } | undefined;
  const copy = `${db}.run.duckdb`;
  const output = `${db}.alerts.json`;
  for (let run = 0; run < runs; run++) {
    rmSync(`${copy}.wal`, { force: true });
    copyFileSync(db, copy);
    // The alerts go to a file, as `detect --format json > alerts.json` writes them: through a pipe, the
    // figure would include how fast this process reads 120 MB of them.
    const out = openSync(output, 'w');
    const started = performance.now();
    const child = spawnSync(process.execPath, [RUNNER, 'detect', '--db', copy, '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', out, 'pipe'], maxBuffer: 1 << 26 });
    times.push((performance.now() - started) / 1000);
    closeSync(out);
    if (child.status !== 0) throw new Error(`detect failed:\n${child.stderr}`);
    peak = Math.max(peak, Number(/peak-rss-mib (\d+)/.exec(child.stderr)?.[1] ?? 0));
    last = JSON.parse(readFileSync(output, 'utf8')) as { detections: number; matches: number; findings: unknown[] };
  }
  rmSync(output, { force: true });
  rmSync(copy, { force: true });
  rmSync(`${copy}.wal`, { force: true });
  return { seconds: Math.min(...times), times, peakMiB: peak, detections: last!.detections, alerts: last!.findings.length, matches: last!.matches };
}

function line(name: string, events: number, m: Measured, runs: number): string {
  return `${name}: ${events.toLocaleString('en-US')} events, ${m.detections} detections, ${m.matches.toLocaleString('en-US')} raw matches in ${m.alerts.toLocaleString('en-US')} alerts; best of ${runs}: ${m.seconds.toFixed(2)} s (runs: ${m.times.map((t) => t.toFixed(2)).join(', ')}), peak ${m.peakMiB.toLocaleString('en-US')} MiB\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, corpus: { type: 'string' }, db: { type: 'string' }, runs: { type: 'string', default: '3' }, noisy: { type: 'boolean', default: false } } });
  const events = Number(values.events);
  const runs = Number(values.runs);
  const corpus = resolve(values.corpus ?? `bench/corpus-${events}`);
  const db = resolve(values.db ?? `bench/detect-${events}.duckdb`);
  await ensureBenchStore(events, corpus, db);
  const ordinary = measure(db, runs);
  process.stdout.write(line('ordinary account', events, ordinary, runs));
  if (!values.noisy) return;
  const noisyCorpus = resolve(`bench/corpus-noisy-account-${events}`);
  const noisyDb = resolve(`bench/detect-noisy-account-${events}.duckdb`);
  await ensureBenchStore(events, noisyCorpus, noisyDb, 'noisy-account');
  const noisy = measure(noisyDb, runs);
  process.stdout.write(
    line('noisy account', events, noisy, runs) +
      `noisy / ordinary: time ${(noisy.seconds / ordinary.seconds).toFixed(2)}x, peak memory ${(noisy.peakMiB / ordinary.peakMiB).toFixed(2)}x (targets: < 10 s, < 1.5 GiB)\n`,
  );
}

await main();
