import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCorpus } from '../synth/corpus.js';

/**
 * Times `trailhound ingest` against DuckDB's own read_json loading the same corpus, in the
 * same run, each in a fresh process and a fresh database file. Prints figures; never fails
 * on a timing. The baselines: the records into one JSON column (DuckDB's default compression,
 * the same unordered, the same zstd-compressed as trailhound stores records), and DuckDB's
 * typed read_json of CloudTrail's documented fields (the nested parts as JSON). DuckDB's
 * auto-typed read_json cannot be one: its schema inference fails on CloudTrail's
 * heterogeneous requestParameters.
 *
 *   npm run bench                      # 1M events, ~2,000 gz files
 *   npm run bench -- --events 10000000 # the large run
 */
const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'ingest-bench-child.js');

interface Measurement {
  readonly mode: string;
  readonly seconds: number;
  readonly maxRssMiB: number;
  readonly rows: number;
  readonly dbBytes: number;
}

function measure(mode: string, corpus: string, work: string): Measurement {
  const db = join(work, `${mode}.duckdb`);
  rmSync(db, { force: true });
  rmSync(`${db}.wal`, { force: true });
  const child = spawnSync(process.execPath, [CHILD, mode, corpus, db], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`${mode} failed:\n${child.stderr}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Omit<Measurement, 'dbBytes' | 'mode'>;
  const dbBytes = statSync(db).size;
  rmSync(db, { force: true });
  return { mode, dbBytes, ...result };
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.json.gz')).length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      files: { type: 'string' },
      corpus: { type: 'string' },
      work: { type: 'string' },
      runs: { type: 'string', default: '1' },
    },
  });
  const events = Number(values.events);
  const files = values.files ? Number(values.files) : Math.max(1, Math.round(events / 500));
  const corpus = resolve(values.corpus ?? `bench/corpus-${events}`);
  const work = resolve(values.work ?? tmpdir());
  if (!existsSync(join(corpus, 'AWSLogs'))) {
    process.stderr.write(`generating ${events} events in ${files} files under ${corpus} ...\n`);
    await generateCorpus({ events, files, out: corpus });
  }
  const fileCount = countFiles(corpus);
  const runs = Number(values.runs);
  const modes = ['duckdb-raw', 'duckdb-raw-unordered', 'duckdb-typed', 'duckdb-raw-zstd', 'trailhound'];
  const results: Measurement[] = [];
  for (let run = 0; run < runs; run++) {
    for (const mode of modes) {
      process.stderr.write(`run ${run + 1}/${runs}: ${mode} ...\n`);
      results.push(measure(mode, corpus, work));
    }
  }
  const best = (mode: string) => results.filter((r) => r.mode === mode).sort((a, b) => a.seconds - b.seconds)[0]!;
  const raw = best('duckdb-raw');
  const unordered = best('duckdb-raw-unordered');
  const typed = best('duckdb-typed');
  const zstd = best('duckdb-raw-zstd');
  const th = best('trailhound');
  const million = th.rows / 1_000_000;
  const lines = [
    `corpus: ${th.rows.toLocaleString('en-US')} events in ${fileCount.toLocaleString('en-US')} gz files (${corpus})`,
    `best of ${runs} run(s), each in a fresh process and database file:`,
    '',
    'loader                                      seconds   events/s   peak RSS MiB   db MiB',
    ...[
      ['DuckDB read_json, one JSON column', raw],
      ['  same, preserve_insertion_order=false', unordered],
      ['  same, the column zstd-compressed', zstd],
      ['DuckDB typed read_json (CloudTrail fields)', typed],
      ['trailhound ingest', th],
    ].map(([label, m]) => {
      const r = m as Measurement;
      return `${String(label).padEnd(42)} ${r.seconds.toFixed(2).padStart(8)} ${Math.round(r.rows / r.seconds).toLocaleString('en-US').padStart(10)} ${String(r.maxRssMiB).padStart(14)} ${Math.round(r.dbBytes / 1_048_576).toLocaleString('en-US').padStart(8)}`;
    }),
    '',
    `trailhound / DuckDB one-JSON-column load (defaults):  ${(th.seconds / raw.seconds).toFixed(2)}x`,
    `trailhound / DuckDB one-JSON-column load (unordered): ${(th.seconds / unordered.seconds).toFixed(2)}x`,
    `trailhound / DuckDB one-JSON-column load (zstd):      ${(th.seconds / zstd.seconds).toFixed(2)}x`,
    `trailhound / DuckDB typed read_json:                  ${(th.seconds / typed.seconds).toFixed(2)}x`,
    `trailhound store size: ${(th.dbBytes / 1_048_576 / million).toFixed(0)} MiB per million events`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
