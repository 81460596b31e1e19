/**
 * The command-line side of the Athena engine: the options `detect`, `analyze` and `ingest`
 * share to reach Athena, Ctrl-C handling that stops running queries, the per-query cost
 * lines on stderr, and `trailhound athena ddl`. The work itself is in src/engines/.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseInstant } from '../core/time.js';
import type { AthenaSettings } from '../engines/athena-client.js';
import type { AthenaPull } from '../engines/athena-ingest.js';
import { terminalSafe } from '../report/text-safety.js';
import { commaList, parsePivot, parseScope, positiveNumber, refuseStray, storePath, uniqueList, type ScopeOptions } from './options.js';
import { counted } from '../core/words.js';

/** Options of every command that can read from Athena. */
export interface AthenaCliOptions {
  readonly engine?: string;
  readonly athenaDatabase?: string;
  readonly athenaTable?: string;
  readonly athenaWorkgroup?: string;
  readonly athenaOutput?: string;
  readonly athenaCatalog?: string;
  readonly athenaRegion?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly maxScanGb?: string;
}

/**
 * Adds the options that point a command at Athena (all but --engine, which each command words
 * itself); `aws: false` leaves out --profile and --endpoint-url for a command that has them already.
 */
export function addAthenaOptions(command: Command, { aws = true }: { readonly aws?: boolean } = {}): Command {
  if (aws) {
    command
      .option('--profile <name>', 'AWS profile for Athena (default: the SDK\'s default credential chain)')
      .option('--endpoint-url <url>', 'another Athena endpoint (tests, VPC endpoints)');
  }
  return command
    .option('--athena-database <name>', 'Athena: the database (Glue) holding the CloudTrail table')
    .option('--athena-table <name>', 'Athena: the CloudTrail table', 'cloudtrail_logs')
    .option('--athena-workgroup <name>', 'Athena: the workgroup queries run in (default: primary)')
    .option('--athena-output <s3uri>', 'Athena: s3:// prefix for query results (optional if the workgroup sets one)')
    .option('--athena-catalog <name>', 'Athena: the data catalog', 'AwsDataCatalog')
    .option('--athena-region <name>', 'Athena: the region Athena runs in (default: AWS_REGION or the profile\'s)')
    .option('--max-scan-gb <n>', 'Athena: refuse queries whose days are not constrained, and stop any query that scans more than this');
}

/** The Athena settings from the command line; throws a UsageError naming the missing option. */
export function athenaSettings(opts: AthenaCliOptions): AthenaSettings {
  if (!opts.athenaDatabase) throw new UsageError('--engine athena needs --athena-database (the Glue database of the CloudTrail table)');
  if (opts.athenaOutput !== undefined && !/^s3:\/\/[a-z0-9][a-z0-9.-]+[a-z0-9](\/.*)?$/.test(opts.athenaOutput)) {
    throw new UsageError(`--athena-output ${opts.athenaOutput} is not an s3://bucket/prefix/ address`);
  }
  if (opts.endpointUrl !== undefined && !/^https?:\/\//.test(opts.endpointUrl)) throw new UsageError(`--endpoint-url ${opts.endpointUrl} must start with http:// or https://`);
  return {
    database: opts.athenaDatabase,
    table: opts.athenaTable ?? 'cloudtrail_logs',
    catalog: opts.athenaCatalog ?? 'AwsDataCatalog',
    ...(opts.athenaWorkgroup ? { workgroup: opts.athenaWorkgroup } : {}),
    ...(opts.athenaOutput ? { outputLocation: opts.athenaOutput } : {}),
    ...(opts.athenaRegion ? { region: opts.athenaRegion } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.endpointUrl ? { endpointUrl: opts.endpointUrl } : {}),
    ...(opts.maxScanGb !== undefined ? { maxScanBytes: positiveNumber('--max-scan-gb', opts.maxScanGb) * 1024 ** 3 } : {}),
  };
}

/**
 * Runs `fn` with a signal that the first Ctrl-C aborts (running queries are stopped on
 * Athena); a second Ctrl-C quits at once.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('trailhound: stopping the running Athena queries (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `trailhound athena ddl`: prints the CREATE TABLE with partition projection for a trail bucket. */
export async function athenaDdlCommand(opts: {
  readonly bucket: string;
  readonly account?: string[];
  readonly region?: string[];
  readonly orgId?: string;
  readonly start: string;
  readonly database: string;
  readonly table: string;
}): Promise<void> {
  const { cloudTrailDdl } = await import('../engines/ddl.js');
  const { DEFAULT_REGIONS } = await import('../sources/regions.js');
  const list = commaList;
  const regions = list(opts.region);
  process.stdout.write(
    cloudTrailDdl({
      bucket: opts.bucket,
      accounts: list(opts.account),
      regions: regions.length ? regions : [...DEFAULT_REGIONS],
      ...(opts.orgId ? { orgId: opts.orgId } : {}),
      start: parseInstant(opts.start),
      database: opts.database,
      table: opts.table,
    }),
  );
}

/** Registers `trailhound athena ddl`. */
export function registerAthenaCommand(program: Command): void {
  const athena = program.command('athena').description('Amazon Athena helpers');
  athena
    .command('ddl')
    .description('print the CREATE TABLE (partition projection on account, region and day) for a trail bucket')
    .requiredOption('--bucket <s3uri>', 'the trail destination: s3://bucket[/prefix] (the folder holding AWSLogs/)')
    .option('--account <ids...>', 'the accounts whose logs the trail delivers')
    .option('--region <names...>', 'regions to project (default: the regions every account has enabled)')
    .option('--org-id <id>', 'organization id (o-…) of an organization trail')
    .option('--start <date>', 'first day to project', '2020-01-01')
    .option('--database <name>', 'database to create the table in', 'default')
    .option('--table <name>', 'table name', 'cloudtrail_logs')
    .action(async (opts) => {
      await athenaDdlCommand(opts);
    });
}

/** The --engine option of a command that can read from the store or from Athena. */
export function engineOption(): Option {
  return new Option('--engine <engine>', 'where to run: the local store (duckdb) or Amazon Athena (athena)').choices(['duckdb', 'athena']).default('duckdb');
}

/** Options of `trailhound ingest --athena`. */
export interface IngestAthenaOptions extends AthenaCliOptions, ScopeOptions {
  readonly athena?: boolean;
  readonly db?: string;
  readonly key?: readonly string[];
  readonly ip?: readonly string[];
  readonly principal?: readonly string[];
  readonly session?: readonly string[];
  readonly eventName?: readonly string[];
  readonly lineage?: boolean;
  readonly findings?: string;
  readonly cache?: string;
  readonly memoryLimit?: string;
  readonly format: 'text' | 'json';
}

/** The event ids of the findings in a `trailhound detect --format json` output file. */
export function findingEventIds(path: string, text: string): string[] {
  let doc: { findings?: Array<{ eventIds?: unknown }> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new UsageError(`--findings ${path} is not JSON; give the output of "trailhound detect --format json"`);
  }
  if (!Array.isArray(doc?.findings)) throw new UsageError(`--findings ${path} has no "findings" list; give the output of "trailhound detect --format json"`);
  return [...new Set(doc.findings.flatMap((f) => (Array.isArray(f.eventIds) ? f.eventIds.filter((id): id is string => typeof id === 'string') : [])))];
}

/** Whether `ingest` was asked to pull from Athena; Athena-only options without --athena are a usage error. */
export function athenaIngestRequested(opts: IngestAthenaOptions): boolean {
  if (opts.athena) return true;
  refuseStray(opts, ['athenaDatabase', 'athenaWorkgroup', 'athenaOutput', 'athenaRegion', 'maxScanGb', 'lineage', 'findings', 'principal', 'session'], 'ingest --athena');
  return false;
}

/** `trailhound ingest --athena`: pulls events from the CloudTrail table on Athena into the store. */
export async function ingestAthenaCommand(paths: readonly string[], opts: IngestAthenaOptions): Promise<void> {
  if (paths.length > 0) throw new UsageError('ingest --athena reads the Athena table, not paths; run the paths in another ingest');
  const scope = parseScope(opts);
  const list = uniqueList;
  const pivot = parsePivot(opts);
  const { readFileSync } = await import('node:fs');
  let pull: AthenaPull;
  if (opts.findings) {
    let text: string;
    try {
      text = readFileSync(opts.findings, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --findings ${opts.findings} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
    pull = { kind: 'events', eventIds: findingEventIds(opts.findings, text) };
  } else if (opts.lineage) {
    if (!pivot.keys.length && !pivot.ips.length && !pivot.principals.length && !pivot.sessions.length) throw new UsageError('--lineage follows a pivot: give --key, --ip, --principal or --session');
    pull = { kind: 'lineage', pivot };
  } else {
    const names = list(opts.eventName);
    pull = { kind: 'filter', filter: { ...(pivot.keys.length ? { keys: pivot.keys } : {}), ...(pivot.ips.length ? { ips: pivot.ips } : {}), ...(pivot.principals.length ? { principals: pivot.principals } : {}), ...(pivot.sessions.length ? { sessions: pivot.sessions } : {}), ...(names.length ? { eventNames: names } : {}) } };
  }
  const { Store } = await import('../store/store.js');
  const { AthenaEngine } = await import('../engines/athena-engine.js');
  const engine = await AthenaEngine.open(athenaSettings(opts), {
    onQuery: (line) => process.stderr.write(`${terminalSafe(line)}\n`),
    onWarning: (message) => process.stderr.write(`trailhound: ${terminalSafe(message)}\n`),
  });
  try {
    const store = await Store.open(storePath(opts), opts.memoryLimit ? { memoryLimit: opts.memoryLimit } : {});
    try {
      const summary = await withInterrupt((signal) => engine.pull(store, scope, pull, { signal, ...(opts.cache ? { cacheDir: opts.cache } : {}) }));
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        const a = summary.athena;
        process.stdout.write(
          `Loaded ${counted(summary.eventsLoaded, 'event')} from Athena into ${storePath(opts)} (run ${summary.runId}, ${summary.seconds.toFixed(2)} s)\n` +
            `  ${a.rows.toLocaleString('en-US')} rows from ${a.queries} ${a.queries === 1 ? 'query' : 'queries'}, ${(a.dataScannedBytes / 1024 ** 3).toFixed(2)} GB scanned, about $${a.costUsd.toFixed(a.costUsd < 1 ? 4 : 2)}\n` +
            `  duplicate events ${summary.duplicates}` +
            (summary.firstEventTime ? `\n  time range ${summary.firstEventTime} .. ${summary.lastEventTime}` : '') +
            (summary.accounts.length ? `\n  accounts ${summary.accounts.map(terminalSafe).join(', ')}` : '') +
            (summary.regions.length ? `\n  regions ${summary.regions.map(terminalSafe).join(', ')}` : '') +
            '\n',
        );
      }
      process.exitCode = summary.status === 'interrupted' ? 130 : summary.skipped.length > 0 ? 3 : 0;
    } finally {
      store.close();
    }
  } finally {
    process.stderr.write(`${terminalSafe(engine.totals())}\n`);
    engine.close();
  }
}

/** Adds `ingest --athena` and its options (ingest has --profile, --endpoint-url, --key, --ip and --event-name already). */
export function addIngestAthenaOptions(command: Command): Command {
  command
    .option('--athena', 'pull events from the CloudTrail table on Amazon Athena (with --key/--ip/--principal/--session/--event-name, --lineage or --findings)')
    .option('--principal <names...>', '--athena: only events of these principal ARNs, user names or role names')
    .option('--session <ids...>', '--athena: only events of these session keys or role session names')
    .option('--lineage', '--athena: every event of the pivot\'s credential lineage (as analyze follows it)')
    .option('--findings <file>', '--athena: the events behind the findings in this "detect --format json" output');
  return addAthenaOptions(command, { aws: false });
}
