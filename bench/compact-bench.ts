import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { compactStore } from '../src/store/compact.js';
import { Store } from '../src/store/store.js';
import { generateCorpus } from '../synth/corpus.js';

/**
 * `trailhound compact` on a store loaded in many segments (one per large batch, as months of
 * loads leave it): the compact itself, the store file before and after, and `analyze --key`
 * for the busiest key (the whole process, best of --runs) on the store as loaded against
 * the compacted copy, measured in the same run. Prints figures; never fails on a timing.
 *
 *   npm run bench:compact                         # 1M events in segments of ~32 MiB
 *   node dist/bench/compact-bench.js --events 300000 --corpus bench/corpus-300000
 */
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MiB = 2 ** 20;

function analyzeSeconds(db: string, key: string, runs: number): { best: number; output: string } {
  let best = Infinity;
  let output = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, [BIN, 'analyze', '--db', db, '--key', key, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (child.status !== 0) throw new Error(`analyze failed:\n${child.stderr}`);
    best = Math.min(best, (performance.now() - started) / 1000);
    output = child.stdout;
  }
  return { best, output };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      corpus: { type: 'string' },
      'segment-mb': { type: 'string', default: '32' },
      runs: { type: 'string', default: '3' },
    },
  });
  const events = Number(values.events);
  const corpus = resolve(values.corpus ?? join(ROOT, 'bench', `corpus-${events}`));
  if (!existsSync(corpus)) {
    process.stdout.write(`generating ${events} events under ${corpus} ...\n`);
    await generateCorpus({ events, out: corpus });
  }
  const work = mkdtempSync(join(tmpdir(), 'trailhound-compact-bench-'));
  try {
    const loaded = join(work, 'loaded.duckdb');
    const segmentBytes = Number(values['segment-mb']) * MiB;
    const store = await Store.open(loaded, { memoryLimit: '2GB' });
    let key: string;
    try {
      // Batches of this size, each in a segment of its own.
      await ingestFiles({ store, paths: [corpus], batchBytes: segmentBytes, newSegmentBytes: 1 });
      key = (await store.one<{ k: string }>(`select access_key_id as k from key_groups group by 1 order by sum(events) desc, 1 limit 1`))!.k;
    } finally {
      store.close();
    }
    const compacted = join(work, 'compacted.duckdb');
    copyFileSync(loaded, compacted);
    const summary = await compactStore(compacted);
    const runs = Number(values.runs);
    const before = analyzeSeconds(loaded, key, runs);
    const after = analyzeSeconds(compacted, key, runs);
    if (before.output !== after.output) throw new Error('analyze answered differently after compact');
    const rows = [
      ['events', summary.events.toLocaleString('en-US')],
      ['segments', `${summary.segmentsBefore} -> ${summary.segmentsAfter}`],
      ['compact, seconds', summary.seconds.toFixed(2)],
      ['store file, MiB', `${(summary.bytesBefore / MiB).toFixed(1)} -> ${(summary.bytesAfter / MiB).toFixed(1)} (${(summary.bytesAfter / summary.bytesBefore).toFixed(2)}x)`],
      [`row groups of the most spread key`, `${summary.busiestKeyRowGroupsBefore} -> ${summary.busiestKeyRowGroupsAfter}`],
      [`analyze --key ${key}, best of ${runs}, s`, `${before.best.toFixed(2)} -> ${after.best.toFixed(2)} (${(after.best / before.best).toFixed(2)}x)`],
    ];
    const width = Math.max(...rows.map((r) => r[0]!.length));
    process.stdout.write(`\ncompact on ${corpus} loaded in batches of ${values['segment-mb']} MiB (as loaded -> compacted):\n`);
    for (const [what, figure] of rows) process.stdout.write(`  ${what!.padEnd(width)}  ${figure}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
