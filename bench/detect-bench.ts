import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBenchStore } from './bench-store.js';

/**
 * Times `trailhound detect` (the whole process: start, open the store, every detection,
 * storing findings) over a store of the benchmark corpus. Prints figures; never fails on a
 * timing.
 *
 *   npm run bench:detect                      # 1M events
 */
const BIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'cli', 'main.js');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, corpus: { type: 'string' }, db: { type: 'string' }, runs: { type: 'string', default: '3' } } });
  const events = Number(values.events);
  const corpus = resolve(values.corpus ?? `bench/corpus-${events}`);
  const db = resolve(values.db ?? `bench/detect-${events}.duckdb`);
  await ensureBenchStore(events, corpus, db);
  const times: number[] = [];
  let findings = 0;
  let detections = 0;
  for (let run = 0; run < Number(values.runs); run++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, [BIN, 'detect', '--db', db, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push((performance.now() - started) / 1000);
    if (child.status !== 0) throw new Error(`detect failed:\n${child.stderr}`);
    const result = JSON.parse(child.stdout) as { detections: number; findings: unknown[] };
    findings = result.findings.length;
    detections = result.detections;
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `trailhound detect over ${events.toLocaleString('en-US')} events: ${detections} detections, ${findings} findings\n` +
      `whole process, best of ${times.length}: ${times[0]!.toFixed(2)} s (runs: ${times.map((t) => t.toFixed(2)).join(', ')})\n`,
  );
}

await main();
