/**
 * Opens the engine a command runs on (`--engine duckdb|athena`), once, and refuses the options
 * of the other engine in one place: Athena's options without `--engine athena`, and the local
 * store's options with it. Commands then work through the Engine interface.
 */
import { UsageError } from '../core/errors.js';
import { DuckDbEngine } from '../engines/duckdb-engine.js';
import type { Engine } from '../engines/engine.js';
import { terminalSafe } from '../report/text-safety.js';
import { Store, type OpenOptions } from '../store/store.js';
import { athenaSettings, withInterrupt, type AthenaCliOptions } from './athena-command.js';
import { positiveNumber, refuseStray, storePath } from './options.js';

/** The options of a command that runs on either engine. */
export interface EngineCliOptions extends AthenaCliOptions {
  readonly db?: string;
  readonly athenaConcurrency?: string;
  readonly pullCandidates?: boolean;
  readonly ioc?: readonly string[];
  readonly geoipDb?: string;
  readonly asnDb?: string;
}

/** Options that only the Athena engine reads. */
const ATHENA_ONLY = ['athenaDatabase', 'athenaWorkgroup', 'athenaOutput', 'athenaRegion', 'maxScanGb', 'profile', 'endpointUrl', 'athenaConcurrency', 'pullCandidates'] as const;

/** Whether the command was asked to run on Athena; Athena's options without it are a usage error. */
export function wantsAthena(opts: EngineCliOptions): boolean {
  if (opts.engine === 'athena') {
    if (opts.ioc?.length || opts.geoipDb || opts.asnDb) throw new UsageError('--ioc, --geoip-db and --asn-db apply to the local store only; pull the events with ingest --athena, then detect locally');
    return true;
  }
  refuseStray(opts, ATHENA_ONLY, '--engine athena');
  return false;
}

/** Opens the engine the options name; `store` says how the local store is opened (read-only, sealed, memory limit). */
export async function openEngine(opts: EngineCliOptions, store: OpenOptions): Promise<Engine> {
  if (!wantsAthena(opts)) return new DuckDbEngine(await Store.open(storePath(opts), store));
  const { AthenaEngine } = await import('../engines/athena-engine.js');
  const concurrency = opts.athenaConcurrency ? Math.floor(positiveNumber('--athena-concurrency', opts.athenaConcurrency)) : undefined;
  return AthenaEngine.open(athenaSettings(opts), {
    onQuery: (line) => process.stderr.write(`${terminalSafe(line)}\n`),
    onWarning: (message) => process.stderr.write(`trailhound: ${terminalSafe(message)}\n`),
    ...(concurrency ? { concurrency } : {}),
    ...(opts.pullCandidates ? { pullCandidates: true } : {}),
  });
}

/**
 * Runs `fn` on the engine the options name and closes it. On Athena the first Ctrl-C stops the
 * running queries (`signal`), and what the run scanned and cost goes to stderr at the end.
 */
export async function withEngine<T>(opts: EngineCliOptions, store: OpenOptions, fn: (engine: Engine, signal?: AbortSignal) => Promise<T>): Promise<T> {
  const engine = await openEngine(opts, store);
  try {
    return engine.name === 'athena' ? await withInterrupt((signal) => fn(engine, signal)) : await fn(engine);
  } finally {
    const totals = engine.totals();
    if (totals) process.stderr.write(`${terminalSafe(totals)}\n`);
    engine.close();
  }
}
