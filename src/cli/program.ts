import { Command, CommanderError, Option } from 'commander';
import { ExitCode, TrailhoundError } from '../core/errors.js';
import { toolVersion } from '../core/version.js';
import { MCP_HELP } from './mcp-help.js';
import { formatOption } from './options.js';
import { addAthenaOptions, addIngestAthenaOptions, engineOption, registerAthenaCommand } from './athena-command.js';

/** The help headings of `ingest`'s options by source; options not named here stay under "Options:". */
const INGEST_HELP_GROUPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['AWS sources (s3://, --event-history, --log-group, --athena):', ['--profile', '--endpoint-url', '--cache']],
  ['S3 trail archives (s3://BUCKET[/PREFIX]):', ['--concurrency']],
  ['Event History (--event-history):', ['--event-history', '--regions', '--user']],
  ['CloudWatch Logs (--log-group):', ['--log-group']],
  ['Filters applied by AWS (Event History, log group, Athena):', ['--key', '--event-name', '--ip']],
  ['Amazon Athena (--athena):', ['--athena', '--principal', '--session', '--lineage', '--findings', '--athena-database', '--athena-table', '--athena-workgroup', '--athena-output', '--athena-catalog', '--athena-region', '--max-scan-gb']],
];

/** Groups `ingest --help` by source, so each source's options read together. */
function groupIngestHelp(command: Command): Command {
  for (const [heading, flags] of INGEST_HELP_GROUPS) {
    for (const flag of flags) {
      const option = command.options.find((o) => o.long === flag);
      if (!option) throw new Error(`ingest has no option ${flag} to put under "${heading}"`);
      option.helpGroup(heading);
    }
  }
  return command;
}

/** Builds the trailhound command line; `run` parses argv and sets process.exitCode. */
export function buildProgram(): Command {
  const program = new Command('trailhound')
    .description('CloudTrail forensic log analyzer: ingest trails into DuckDB, then ask what a key did.')
    .version(toolVersion())
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();

  const db = () => new Option('--db <path>', 'the store file (default: $TRAILHOUND_DB or ./trailhound.duckdb)');

  program
    .command('ingest')
    .description('load CloudTrail into the store: files and directories, s3://BUCKET[/PREFIX] trail archives, Event History (--event-history) or a CloudWatch Logs log group (--log-group)')
    .argument('[paths...]', 'files or directories (e.g. an `aws s3 sync` copy of a trail bucket), or s3://BUCKET[/PREFIX]')
    .addOption(db())
    .option('--since <time>', 'only events at or after this time (ISO-8601 or a span such as 30d)')
    .option('--until <time>', 'only events before this time')
    .option('--account <ids...>', 'only these account ids (also prunes AWSLogs/<account>/ folders)')
    .option('--region <names...>', 'only these regions (also prunes CloudTrail/<region>/ folders)')
    .option('--follow-symlinks', 'follow symbolic links that lead outside the paths given (default: list them as skipped)')
    .option('--max-file-mb <n>', 'largest decompressed file to load, in MiB (default: the memory limit / 16, at most 1024)')
    .option('--memory-limit <size>', "DuckDB memory limit while loading (default: half the machine's memory, at least 1GiB)")
    .option('--batch-mb <n>', 'decompressed MiB loaded per transaction (a kill loses at most one batch)', '2048')
    .option('--event-history', 'read CloudTrail Event History (LookupEvents, last 90 days) in every enabled region')
    .option('--log-group <names...>', 'read a CloudWatch Logs log group a trail delivers to (FilterLogEvents); --region names its region')
    .option('--regions <names...>', 'Event History: these regions instead of every enabled one (EC2 DescribeRegions)')
    .option('--key <ids...>', 'Event History / log group: only events of these access key ids (filtered by AWS)')
    .option('--user <names...>', 'Event History: only events of these user names (filtered by AWS)')
    .option('--event-name <names...>', 'Event History / log group: only these event names (filtered by AWS)')
    .option('--ip <addresses...>', 'log group: only events from these source IP addresses (filtered by AWS)')
    .option('--profile <name>', 'AWS profile (default: the SDK credential chain)')
    .option('--endpoint-url <url>', 'another endpoint for the AWS APIs (LocalStack, MinIO)')
    .option('--concurrency <n>', 's3://: parallel requests (default 16)')
    .option('--cache <dir>', 'evidence cache for fetched files (default: <store>.evidence)')
    .addOption(formatOption(['text', 'json'], 'text', 'summary format'))
    .option('--no-progress', 'no progress bar on stderr');
  groupIngestHelp(addIngestAthenaOptions(program.commands.at(-1)!))
    .action(async (paths: string[], opts) => {
      const { ingestCommand } = await import('./ingest-command.js');
      await ingestCommand(paths, opts);
    });

  program
    .command('verify')
    .description('check the evidence against CloudTrail digest files: log file hashes, the digest chain, signatures, gaps')
    .addOption(db())
    .option('--since <time>', 'only digests whose period ends at or after this time')
    .option('--until <time>', 'only digests whose period starts before this time')
    .option('--account <ids...>', 'only these account ids')
    .option('--region <names...>', 'only these regions')
    .option('--fetch-keys', "fetch CloudTrail's public keys (ListPublicKeys) to check digest signatures")
    .option('--profile <name>', 'AWS profile for --fetch-keys')
    .option('--endpoint-url <url>', 'another endpoint for CloudTrail')
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (opts) => {
      const { verifyCommand } = await import('./verify-command.js');
      await verifyCommand(opts);
    });

  program
    .command('query')
    .description('run a read-only SQL query on the store (table: events, inputs, ingest_runs, digests)')
    .argument('<sql>', 'one SQL statement, e.g. "select eventname, count(*) from events group by 1"')
    .addOption(db())
    .addOption(formatOption(['text', 'csv', 'json', 'jsonl'], 'text'))
    .option('--max-rows <n>', 'rows returned at most; the rest are counted as left out (default 100000)')
    .action(async (sql: string, opts) => {
      const { queryCommand } = await import('./small-commands.js');
      await queryCommand(sql, opts);
    });

  program
    .command('stats')
    .description('what the store holds: events by account, region, day and event source')
    .addOption(db())
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (opts) => {
      const { statsCommand } = await import('./small-commands.js');
      await statsCommand(opts);
    });

  program
    .command('compact')
    .description('merge the store\'s segments into one, ordered by access key and time (faster key lookups), in the current layout; safe to kill')
    .addOption(db())
    .option('--memory-limit <size>', "DuckDB memory limit; the rows are sorted in slices that fit it (default: half the machine's memory, at least 1GiB)")
    .addOption(formatOption(['text', 'json'], 'text', 'summary format'))
    .action(async (opts) => {
      const { compactCommand } = await import('./small-commands.js');
      await compactCommand(opts);
    });

  program
    .command('detect')
    .description('run the detections in queries/ against the store; findings are stored and printed by time')
    .addOption(db())
    .option('--only <ids...>', 'run only these detections')
    .option('--sigma <paths...>', 'also run the Sigma rules in these files or directories (AWS CloudTrail rules; ids sigma:<rule id>)')
    .option('--no-builtin', 'run only the Sigma rules given with --sigma, not the detections in queries/')
    .option('--min-severity <level>', 'report findings at or above: info, low, medium, high, critical')
    .option('--since <time>', 'only events at or after this time')
    .option('--until <time>', 'only events before this time')
    .option('--memory-limit <size>', 'memory for the whole local run: DuckDB works in it less 512 MiB and spills to disk beyond; default 1.5GiB')
    .option('--ioc <files...>', 'also match indicators from these files: addresses, CIDR blocks, access keys, ARNs, event ids, user-agent substrings (one per line or kind,value CSV), or STIX 2.1 bundles')
    .option('--geoip-db <file>', 'a geolocation MMDB file (MaxMind City/Country layout, or ip-location-db) instead of the packaged DB-IP Lite data')
    .option('--asn-db <file>', 'an ASN MMDB file (MaxMind GeoLite2-ASN layout) instead of the packaged ip-location-db data')
    .addOption(formatOption(['text', 'json'], 'text'))
    .addOption(engineOption())
    .option('--region <names...>', 'Athena: only these regions (constrains the region partition)')
    .option('--account <ids...>', 'Athena: only these accounts (constrains the account partition)')
    .option('--athena-concurrency <n>', 'Athena: queries in flight at once (default 4)')
    .option('--pull-candidates', 'Athena: pull the events the name-limited detections need in one scan and run those locally (far fewer scans)');
  addAthenaOptions(program.commands.at(-1)!)
    .action(async (opts) => {
      const { detectCommand } = await import('./detect-command.js');
      await detectCommand(opts);
    });

  program
    .command('analyze')
    .description('what a key, address, principal or session did, the credentials it minted or created (followed in turn), what it changed, and what the store covers')
    .addOption(db())
    .option('--key <ids...>', 'access key ids (AKIA… or ASIA…)')
    .option('--ip <addresses...>', 'source addresses or CIDR blocks')
    .option('--principal <names...>', 'principal ARNs, IAM user names or role names')
    .option('--session <ids...>', 'session keys (ASIA…) or role session names')
    .option('--since <time>', 'only events at or after this time (ISO-8601 or a span such as 30d)')
    .option('--until <time>', 'only events before this time')
    .option('--account <ids...>', 'only these account ids')
    .option('--region <names...>', 'only these regions')
    .option('--depth <n>', 'credential hops to follow, 0 to 50 (default 5)')
    .option('--max-events <n>', 'events listed in --format json (default 10000; counts are always complete)')
    .option('--snapshot <id-or-time>', 'the account snapshot that says what still exists: its id, or a time (the newest taken at or before it); default the newest')
    .option('--unexplained', "also list the snapshot's resources no creating call in the store names (reads the record of every creating call: seconds on millions of events)")
    .addOption(formatOption(['text', 'json', 'md'], 'text'))
    .addOption(engineOption());
  addAthenaOptions(program.commands.at(-1)!)
    .action(async (opts) => {
      const { analyzeCommand } = await import('./analyze-command.js');
      await analyzeCommand(opts);
    });

  const reportScope = (command: Command) =>
    command
      .addOption(db())
      .option('--key <ids...>', 'scope: access key ids (AKIA… or ASIA…) and their credential lineage')
      .option('--ip <addresses...>', 'scope: source addresses or CIDR blocks')
      .option('--principal <names...>', 'scope: principal ARNs, IAM user names or role names')
      .option('--session <ids...>', 'scope: session keys (ASIA…) or role session names')
      .option('--since <time>', 'only findings and events at or after this time (ISO-8601 or a span such as 30d)')
      .option('--until <time>', 'only findings and events before this time')
      .option('--min-severity <level>', 'only findings at or above: info, low, medium, high, critical')
      .option('--max-events <n>', 'lineage events to read at most (default 10000)')
      .option('--contained-at <time>', 'containment time for the session deny policies (default: now)')
      .option('--snapshot <id-or-time>', 'the account snapshot to mark actions open or done with: its id, or a time (the newest taken at or before it); default the newest')
      .option('--out <file>', 'write to this file instead of stdout');

  reportScope(
    program
      .command('timeline')
      .description('incident timeline: findings interleaved with their events, for a ticket (md), a spreadsheet (csv), tools (jsonl, timesketch) or a browser (html)'),
  )
    .addOption(formatOption(['md', 'json', 'jsonl', 'csv', 'timesketch', 'html'], 'md'))
    .option('--limit <n>', 'md: timeline rows shown at most (default 500; the document also stays within 65 KB); the rest are counted')
    .addOption(new Option('--max-rows <n>', 'the former name of --limit').hideHelp())
    .option('--findings-only', 'md: the summary, alerts and findings, without the events behind them')
    .option('--generated-at <time>', 'the generation time written in the report (pin it for reproducible output)')
    .action(async (opts) => {
      const { timelineCommand } = await import('./report-commands.js');
      await timelineCommand(opts);
    });

  reportScope(
    program
      .command('remediate')
      .description('remediation plan in the order of AWS guidance: a checklist (md), JSON, or an aws-cli script with every command commented out (sh)'),
  )
    .addOption(formatOption(['md', 'json', 'sh'], 'md'))
    .option('--verify', 'exit with status 3 while the snapshot shows any action open (2 when the store holds no snapshot)')
    .action(async (opts) => {
      const { remediateCommand } = await import('./report-commands.js');
      await remediateCommand(opts);
    });

  program
    .command('snapshot')
    .description("record the account's live state, read-only: IAM users, keys, roles and the credential report, and every enabled region's instances, Spot requests, AMIs, volumes, snapshots, Auto Scaling groups, ECS, ECR, Lambda, Lightsail, SageMaker and Route 53 domains")
    .addOption(db())
    .option('--out <file>', 'also write the snapshot as a JSON document that "trailhound ingest FILE" loads elsewhere (with --out and no --db, only the document is written)')
    .option('--list', 'list the snapshots in the store instead of taking one')
    .option('--profile <name>', 'AWS profile (default: the SDK credential chain)')
    .option('--region <names...>', 'only these regions (default: every enabled region); global calls go to the first')
    .option('--endpoint-url <url>', 'another endpoint for every AWS service (LocalStack)')
    .option('--concurrency <n>', 'region-and-service reads at once (default 6)')
    .addOption(formatOption(['text', 'json'], 'text', 'summary format'))
    .option('--no-progress', 'no progress lines on stderr')
    .action(async (opts) => {
      const { snapshotCommand } = await import('./snapshot-command.js');
      await snapshotCommand(opts);
    });

  program
    .command('detections')
    .description('list the detection catalog: id, severity, ATT&CK techniques')
    .option('--sigma <paths...>', 'also list the Sigma rules in these files or directories, and whether each runs')
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (opts) => {
      const { detectionsCommand } = await import('./detect-command.js');
      detectionsCommand(opts);
    });

  program
    .command('demo')
    .description('ingest the bundled demo scenario (a leaked access key) into a fresh store and show what was loaded')
    .option('--db <path>', 'the store to (re)create', 'trailhound-demo.duckdb')
    .addOption(formatOption(['text', 'json'], 'text', 'summary format'))
    .action(async (opts) => {
      const { demoCommand } = await import('./small-commands.js');
      await demoCommand(opts);
    });

  program
    .command('mcp')
    .description('serve the store to AI assistants (Claude, Copilot, Cursor…) over the Model Context Protocol on stdio, read-only')
    .addOption(db())
    .action(async (opts) => {
      const { mcpCommand } = await import('./mcp-command.js');
      await mcpCommand(opts);
    });
  program.commands.at(-1)!.addHelpText('after', MCP_HELP);

  registerAthenaCommand(program);

  return program;
}

/** Prints a known error as one line and sets its exit code; anything else gets its full stack. */
export function reportError(error: unknown): void {
  if (error instanceof CommanderError) {
    if (error.exitCode !== 0 && error.code !== 'commander.helpDisplayed' && error.code !== 'commander.version') {
      process.exitCode = ExitCode.usage;
    }
    return;
  }
  if (error instanceof TrailhoundError) {
    process.stderr.write(`trailhound: ${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`trailhound: unexpected error (please report it)\n${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = ExitCode.internal;
}

/** Entry point of the binary. */
export async function run(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    reportError(error);
  }
}
