import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { TrailhoundError, UsageError } from '../src/core/errors.js';
import { generateCorpus } from '../synth/corpus.js';
import type { CorpusOptions, CorpusResult, CorpusShape } from '../synth/corpus.js';

/** The corpus generator behind this command, for benchmark scripts that call it directly. */
export { generateCorpus };
/** The options and result of `generateCorpus`. */
export type { CorpusOptions, CorpusResult };

const USAGE = 'usage: node dist/bench/generate-corpus.js --events 1000000 --out bench/corpus-1m [--files 2000] [--seed N] [--workers N] [--shape ordinary|busy-key|noisy-account] [--force]';

function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, not "${value}"\n${USAGE}`);
  return n;
}

/** The corpus shape named on the command line. */
export function corpusShape(value: string | undefined): CorpusShape {
  if (value === undefined || value === 'ordinary' || value === 'busy-key' || value === 'noisy-account') return value ?? 'ordinary';
  throw new UsageError(`--shape takes ordinary, busy-key or noisy-account, not "${value}"\n${USAGE}`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      files: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      shape: { type: 'string', default: 'ordinary' },
      force: { type: 'boolean', default: false },
    },
  });
  const events = count(values.events, 'events') ?? 1_000_000;
  const files = count(values.files, 'files');
  const workers = count(values.workers, 'workers');
  const shape = corpusShape(values.shape);
  const out = resolve(values.out ?? `bench/corpus-${shape === 'ordinary' ? '' : `${shape}-`}${events}`);
  const result = await generateCorpus({
    shape,
    events,
    out,
    replace: values.force,
    ...(files !== undefined ? { files } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(values.seed !== undefined ? { seed: values.seed } : {}),
  });
  const rate = Math.round(result.events / result.seconds);
  console.log(`files written   ${result.files}`);
  console.log(`events          ${result.events}`);
  console.log(`bytes (gzip)    ${result.bytes} (${megabytes(result.bytes)})`);
  console.log(`bytes (json)    ${result.uncompressedBytes} (${megabytes(result.uncompressedBytes)}, ${Math.round(result.uncompressedBytes / result.events)} per record)`);
  console.log(`seconds         ${result.seconds.toFixed(2)} (${rate} events/s, ${result.workers} worker${result.workers === 1 ? '' : 's'})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    if (error instanceof TrailhoundError) console.error(error.message);
    else console.error(error);
    process.exitCode = error instanceof TrailhoundError ? error.exitCode : 1;
  });
}
