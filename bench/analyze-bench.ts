import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { currentLayout } from './bench-store.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { Store } from '../src/store/store.js';
import { BUSY_KEY_ID, generateCorpus } from '../synth/corpus.js';
import { DEMO_FACTS } from '../synth/scenario.js';

/**
 * Times `trailhound analyze --key …` (the whole process: start, open the store, the pivot,
 * the lineage, blast radius and coverage) over a store of the benchmark corpus plus the demo
 * scenario, against a `jq` filter over the same raw files — the usual alternative, which
 * finds only the key's own events. Prints figures; never fails on a timing.
 *
 *   npm run bench:analyze                              # 10M events (+ the demo)
 *   node dist/bench/analyze-bench.js --events 1000000  # smaller
 *   node dist/bench/analyze-bench.js --no-jq           # skip the slow baseline
 *   node dist/bench/analyze-bench.js --events 1000000 --busy-key --no-jq
 *                                                      # a key active in every hour of the month
 *   node dist/bench/analyze-bench.js --events 10000000 --busy-key --session-key --no-jq
 *                                                      # the demo's session key in the same store: found
 *                                                      # with the STS call that minted it
 *
 * The peak memory of the analyze process is printed beside its time.
 */
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'bench', 'rss-run.js');
const DEMO = join(ROOT, 'fixtures', 'demo');

interface Answer {
  eventCount: number;
  events: unknown[];
  derivedKeys: unknown[];
}

function runAnalyze(db: string, key: string): { seconds: number; peakMiB: number; answer: Answer } {
  const started = performance.now();
  const child = spawnSync(process.execPath, [BIN, 'analyze', '--db', db, '--key', key, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`analyze failed:\n${child.stderr}`);
  return { seconds, peakMiB: Number(/peak-rss-mib (\d+)/.exec(child.stderr)?.[1] ?? 0), answer: JSON.parse(child.stdout) as Answer };
}

function runJq(dirs: readonly string[], key: string): { seconds: number; events: number } {
  // Every log file (not the digests), decompressed and filtered on the key.
  const script = `find ${dirs.map((d) => `'${d}'`).join(' ')} -name '*.json.gz' -not -path '*CloudTrail-Digest*' -print0 | xargs -0 zcat | jq -c --arg k '${key}' '.Records[] | select(.userIdentity.accessKeyId == $k) | .eventID' | wc -l`;
  const started = performance.now();
  const child = spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`jq baseline failed (is jq installed?):\n${child.stderr}`);
  return { seconds, events: Number(child.stdout.trim()) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      corpus: { type: 'string' },
      db: { type: 'string' },
      runs: { type: 'string', default: '5' },
      key: { type: 'string' },
      'no-jq': { type: 'boolean', default: false },
      'busy-key': { type: 'boolean', default: false },
      // the demo's session key: analyze looks for the STS call that minted it among every STS call of the store
      'session-key': { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const busy = values['busy-key'];
  const key = values.key ?? (values['session-key'] ? DEMO_FACTS.mintedKeyId : busy ? BUSY_KEY_ID : DEMO_FACTS.leakedKeyId);
  const corpus = resolve(values.corpus ?? `bench/corpus-${busy ? 'busy-key-' : ''}${events}`);
  const db = resolve(values.db ?? `bench/analyze-${busy ? 'busy-key-' : ''}${events}.duckdb`);
  if (!existsSync(join(corpus, 'AWSLogs'))) {
    process.stderr.write(`generating ${events} events${busy ? ' (busy key)' : ''} under ${corpus} ...\n`);
    await generateCorpus({ events, files: Math.max(1, Math.round(events / 500)), out: corpus, shape: busy ? 'busy-key' : 'ordinary' });
  }
  if (existsSync(db) && !(await currentLayout(db))) {
    process.stderr.write(`${db} was made by an older layout; loading it again ...\n`);
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
  }
  if (!existsSync(db)) {
    process.stderr.write(`loading ${corpus} and the demo scenario into ${db} ...\n`);
    const store = await Store.open(db, { memoryLimit: '1GB' });
    await ingestFiles({ store, paths: [corpus, DEMO] });
    store.close();
  }
  const store = await Store.open(db, { readOnly: true });
  const total = (await store.one<{ n: number }>('select count(*)::bigint as n from events'))?.n ?? 0;
  store.close();

  runAnalyze(db, key); // warm the file cache, as the jq run gets it warm too
  const times: number[] = [];
  let answer: Answer | undefined;
  let peak = 0;
  for (let run = 0; run < Number(values.runs); run++) {
    const result = runAnalyze(db, key);
    times.push(result.seconds);
    answer = result.answer;
    peak = Math.max(peak, result.peakMiB);
  }
  times.sort((a, b) => a - b);
  const best = times[0]!;
  process.stdout.write(
    `trailhound analyze --key ${key} over ${Number(total).toLocaleString('en-US')} events:\n` +
      `  ${answer!.eventCount} events of the key, ${answer!.derivedKeys.length} derived keys, ${answer!.events.length} lineage events\n` +
      `  whole process, best of ${times.length}: ${best.toFixed(2)} s (runs: ${times.map((t) => t.toFixed(2)).join(', ')}), peak ${peak.toLocaleString('en-US')} MiB; targets < 1 s, < 1 GiB\n`,
  );
  if (values['no-jq']) return;
  const jq = runJq([corpus, DEMO], key);
  process.stdout.write(
    `jq over the same raw files (the key's own events only, no lineage): ${jq.seconds.toFixed(1)} s, ${jq.events} events\n` +
      `ratio: trailhound analyze is ${(jq.seconds / best).toFixed(0)}x faster${jq.events === answer!.eventCount ? ' and finds the same events' : ` (event counts differ: jq ${jq.events}, trailhound ${answer!.eventCount})`}\n`,
  );
}

await main();
