/**
 * `ingest --log-group NAME`: CloudWatch Logs FilterLogEvents over the window of a log group a
 * trail delivers to, with --key/--ip/--event-name pushed down as a filter pattern; paginated,
 * throttle-aware, and resumable (the nextToken is checkpointed after each page is cached).
 * Each page lands in the evidence cache as JSON Lines (one CloudTrail record per line).
 */
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { UsageError } from '../core/errors.js';
import { isoSeconds } from '../core/time.js';
import { ingestFiles, type FailedInput } from '../ingest/pipeline.js';
import { AwsCredentialsError, AwsResourceNotFoundError, Pacer, clientConfig, resolveHomeRegion } from './aws.js';
import { cachePath, cacheRoot, pullFolder, writeCacheFile, type PullIdentity } from './evidence-cache.js';
import { cachedPages, pullPages, type PageFolder } from './pages.js';
import type { RemoteIngestOptions, RemoteIngestSummary } from './remote-ingest.js';

/** What to push down to CloudWatch Logs: values OR-ed within a field, fields AND-ed. */
export interface LogFilters {
  readonly keys?: readonly string[];
  readonly ips?: readonly string[];
  readonly eventNames?: readonly string[];
}

/** Options of a CloudWatch Logs pull. */
export interface CloudWatchLogsOptions extends RemoteIngestOptions {
  /** Log group names (or ARNs) the trail delivers to. */
  readonly logGroups: readonly string[];
  readonly filters?: LogFilters;
  /** Requests per second (default 5; FilterLogEvents' quota is per account and region). */
  readonly requestsPerSecond?: number;
}

/**
 * The filter pattern for the filters, e.g. `{ ($.userIdentity.accessKeyId = "AKIA…") && ($.eventName = "RunInstances") }`;
 * undefined without filters. Values are checked so that nothing can break out of the pattern.
 */
export function filterPattern(filters: LogFilters): string | undefined {
  const clauses: string[] = [];
  const field = (selector: string, values: readonly string[] | undefined, valid: RegExp, what: string) => {
    if (!values?.length) return;
    for (const v of values) if (!valid.test(v)) throw new UsageError(`"${v}" is not ${what}`);
    const terms = values.map((v) => `(${selector} = "${v}")`);
    clauses.push(terms.length === 1 ? terms[0]! : `(${terms.join(' || ')})`);
  };
  field('$.userIdentity.accessKeyId', filters.keys, /^[A-Z0-9]{16,128}$/, 'an access key id (AKIA…/ASIA…)');
  field('$.sourceIPAddress', filters.ips, /^[0-9A-Fa-f:.]+$/, 'an IP address (CIDR blocks cannot be pushed down: filter them after loading)');
  field('$.eventName', filters.eventNames, /^[A-Za-z0-9_]+$/, 'an event name');
  return clauses.length ? `{ ${clauses.join(' && ')} }` : undefined;
}

/** The CloudTrail records of a FilterLogEvents page: the messages that are JSON objects. */
function messages(page: FilterLogEventsCommandOutput): string[] {
  return (page.events ?? []).map((e) => (e.message ?? '').trim()).filter((m) => m.startsWith('{'));
}

/** Pulls CloudTrail events from CloudWatch Logs log groups into the store. */
export async function ingestCloudWatchLogs(options: CloudWatchLogsOptions): Promise<RemoteIngestSummary> {
  const started = performance.now();
  const { store, signal } = options;
  const scope = options.scope ?? {};
  const now = options.now ?? new Date();
  const root = cacheRoot(store, options.cacheDir);
  const region = await resolveHomeRegion(options);
  const pattern = filterPattern(options.filters ?? {});
  const since = scope.since ?? new Date(0);
  const until = scope.until && scope.until < now ? scope.until : now;
  if (since >= until) throw new UsageError(`the window ${isoSeconds(since)} .. ${isoSeconds(until)} is empty`);
  const client = new CloudWatchLogsClient(clientConfig(options, region));
  const pacer = new Pacer(1000 / (options.requestsPerSecond ?? 5));
  const failures: FailedInput[] = [];
  const folders: PageFolder[] = [];
  let requests = 0;
  let retries = 0;
  let pages = 0;
  let events = 0;
  let bytes = 0;
  let reused = 0;
  try {
    for (const group of options.logGroups) {
      const identifier = group.startsWith('arn:') ? { logGroupIdentifier: group } : { logGroupName: group };
      const key = `${region}|${group}|${since.getTime()}|${until.getTime()}|${pattern ?? '*'}`;
      const folder = pullFolder(key);
      const dir = cachePath(root, 'cloudwatch-logs', region, group.replace(/^arn:.*:log-group:/, ''), folder);
      folders.push({ dir, uri: `cloudwatch-logs://${region}/${group}/${folder}`, region });
      const pull: PullIdentity = { source: 'cloudwatch-logs', key, region, target: group, since, until, filter: pattern ?? null };
      const outcome = await pullPages({
        store,
        pull,
        request: {
          send: (token) => {
            requests++;
            return client.send(
              new FilterLogEventsCommand({ ...identifier, startTime: since.getTime(), endTime: until.getTime() - 1, ...(pattern ? { filterPattern: pattern } : {}), ...(token ? { nextToken: token } : {}) }),
              signal ? { abortSignal: signal } : {},
            );
          },
          // FilterLogEvents may return empty pages with a token while it searches: the pull goes on until there is no token.
          nextToken: (page) => page.nextToken,
          permission: `logs:FilterLogEvents on ${group}`,
          maxAttempts: options.maxAttempts ?? 8,
          backoffMs: options.backoffMs ?? 500,
          ...(signal ? { signal } : {}),
          beforeAttempt: () => pacer.wait(signal),
          onRetry: () => retries++,
        },
        count: (page) => messages(page).length,
        keep: async (page, saved) => {
          const lines = messages(page);
          if (lines.length > 0) {
            const body = `${lines.join('\n')}\n`;
            await writeCacheFile(join(dir, `page-${String(saved.pages).padStart(6, '0')}.jsonl`), body);
            bytes += Buffer.byteLength(body);
          }
          pages++;
          events += lines.length;
          const newest = page.events?.at(-1)?.timestamp;
          const groupShare = saved.done ? 1 : newest !== undefined ? Math.min(1, Math.max(0, (newest - since.getTime()) / (until.getTime() - since.getTime()))) : 0;
          options.onProgress?.({ phase: 'pages', done: pages, events, bytes, fraction: (options.logGroups.indexOf(group) + groupShare) / options.logGroups.length });
        },
      });
      if (outcome.status === 'reused') reused += outcome.state.pages;
      else if (outcome.status === 'failed') {
        const { failure: f, error, state } = outcome;
        if (f.kind === 'credentials' && requests <= 1) throw new AwsCredentialsError(f.reason, { cause: error });
        const missing = `no log group ${group} in ${region} (${f.code}); check the name and --region`;
        if (f.kind === 'not-found' && options.logGroups.length === 1) throw new AwsResourceNotFoundError(missing, { cause: error });
        const reason = f.kind === 'not-found' ? missing : f.reason;
        failures.push({ uri: `cloudwatch-logs://${region}/${group}`, status: 'failed', reason: `${reason}${state.pages ? ` (after ${state.pages} pages; the next run resumes there)` : ''}`, region });
      }
    }
  } finally {
    client.destroy();
  }

  const { paths, describe } = await cachedPages(folders, '.jsonl');
  const summary = await ingestFiles({
    paths,
    store,
    scope,
    source: 'cloudwatch-logs',
    describeInput: describe,
    failures,
    arguments: { logGroups: options.logGroups, region, since: isoSeconds(since), until: isoSeconds(until), filterPattern: pattern ?? null, endpoint: options.endpointUrl ?? null, profile: options.profile ?? null },
    ...(signal ? { signal } : {}),
    ...(signal?.aborted ? { interrupted: true } : {}),
    ...options.load,
  });
  return {
    ...summary,
    source: 'cloudwatch-logs',
    remote: { requests, retries, fetched: pages, reused, bytes, failed: failures.length, seconds: Math.round((performance.now() - started) / 10) / 100 },
  };
}
