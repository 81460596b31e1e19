/**
 * `ingest --event-history`: CloudTrail LookupEvents over every region in parallel, each region
 * paced just under its limit (2 requests per second per account per region), backing off on
 * throttling, with the NextToken of each region checkpointed in the store so that an
 * interrupted pull resumes. Each page lands in the evidence cache as `{"Events":[…]}` (the
 * shape `aws cloudtrail lookup-events` prints) and loads through the bulk path.
 */
import { join } from 'node:path';
import { CloudTrailClient, LookupEventsCommand, type LookupAttribute, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import { UsageError } from '../core/errors.js';
import type { Scope } from '../core/scope.js';
import { isoSeconds } from '../core/time.js';
import { ingestFiles, type FailedInput } from '../ingest/pipeline.js';
import { AwsCredentialsError, Pacer, clientConfig, type AwsFailure } from './aws.js';
import { cachePath, cacheRoot, pullFolder, writeCacheFile, type PullIdentity } from './evidence-cache.js';
import { cachedPages, pullPages, type PageFolder } from './pages.js';
import { enabledRegions } from './regions.js';
import type { RemoteIngestOptions, RemoteIngestSummary } from './remote-ingest.js';

/** Server-side filters: LookupEvents takes one attribute per call, so each value is its own lookup. */
export interface LookupFilters {
  /** Access key ids (AccessKeyId). */
  readonly keys?: readonly string[];
  /** User names (Username). */
  readonly users?: readonly string[];
  /** Event names (EventName). */
  readonly eventNames?: readonly string[];
}

/** Options of an Event History pull. */
export interface EventHistoryOptions extends RemoteIngestOptions {
  /** Regions to read; default every region the account has enabled (EC2 DescribeRegions), narrowed by the scope's regions. */
  readonly regions?: readonly string[];
  readonly filters?: LookupFilters;
  /** Requests per second per region (default 1.95, just under the documented 2). */
  readonly requestsPerSecond?: number;
}

/** How far back Event History goes. */
export const EVENT_HISTORY_DAYS = 90;
const DAY = 86_400_000;

/** Pulls Event History into the store. Each region is independent: one that fails is recorded, the others load. */
export async function ingestEventHistory(options: EventHistoryOptions): Promise<RemoteIngestSummary> {
  const started = performance.now();
  const { store, signal } = options;
  const scope = options.scope ?? {};
  const now = options.now ?? new Date();
  const root = cacheRoot(store, options.cacheDir);
  const rate = options.requestsPerSecond ?? 1.95;
  if (!(rate > 0 && rate <= 2)) throw new UsageError('LookupEvents allows at most 2 requests per second per region; pass a rate in (0, 2]');
  const failures: FailedInput[] = [];
  const { since, until } = lookupWindow(scope, now, failures);

  const regions = await regionsToRead(options, failures);

  const attributes = lookupAttributes(options.filters ?? {});
  let requests = 0;
  let retries = 0;
  let pages = 0;
  let events = 0;
  let bytes = 0;
  let reused = 0;
  let stopped: AwsFailure | undefined;
  const folders: PageFolder[] = [];
  // LookupEvents returns the newest events first: how far back a region's pages reach says how much of its window is read.
  const covered = new Map<string, number>(regions.map((r) => [r, 0]));
  const fraction = () => [...covered.values()].reduce((a, b) => a + b, 0) / Math.max(1, covered.size);
  const span = until.getTime() - since.getTime();

  // Every region runs to its end before a fatal error (no credentials) is raised: nothing keeps running behind it.
  const outcomes = await Promise.allSettled(
    regions.map(async (region, index) => {
      const client = new CloudTrailClient(clientConfig(options, region));
      // Staggered, so that the regions' requests do not all leave (and queue in the SDK) at the same instant.
      const pacer = new Pacer(1000 / rate, (index * 1000) / rate / regions.length);
      try {
        for (const attribute of attributes) {
          const filter = attribute ? `${attribute.AttributeKey}=${attribute.AttributeValue}` : null;
          const key = `${region}|${isoSeconds(since)}|${isoSeconds(until)}|${filter ?? '*'}`;
          const folder = pullFolder(key);
          const dir = cachePath(root, 'event-history', region, folder);
          folders.push({ dir, uri: `event-history://${region}/${folder}`, region });
          const pull: PullIdentity = { source: 'event-history', key, region, target: null, since, until, filter };
          const outcome = await pullPages({
            store,
            pull,
            request: {
              send: (token) => {
                requests++;
                return client.send(
                  new LookupEventsCommand({ StartTime: since, EndTime: until, MaxResults: 50, ...(attribute ? { LookupAttributes: [attribute] } : {}), ...(token ? { NextToken: token } : {}) }),
                  signal ? { abortSignal: signal } : {},
                );
              },
              nextToken: (page) => page.NextToken,
              permission: `cloudtrail:LookupEvents in ${region}`,
              maxAttempts: options.maxAttempts ?? 8,
              backoffMs: options.backoffMs ?? 500,
              ...(signal ? { signal } : {}),
              beforeAttempt: () => pacer.wait(signal),
              onRetry: (f) => {
                retries++;
                if (f.kind === 'throttled') pacer.delay(pacer.intervalMs);
              },
            },
            count: (page) => page.Events?.length ?? 0,
            // The page is written and checkpointed while the next request waits for its slot.
            overlap: true,
            keep: async (page, saved) => {
              const list = page.Events ?? [];
              if (list.length > 0) {
                const body = JSON.stringify({ Events: list.map((e) => ({ ...e, EventTime: e.EventTime ? isoSeconds(e.EventTime) : undefined })) });
                await writeCacheFile(join(dir, `page-${String(saved.pages).padStart(6, '0')}.json`), body);
                bytes += Buffer.byteLength(body);
              }
              pages++;
              events += list.length;
              const oldest = list.at(-1)?.EventTime?.getTime();
              if (saved.done) covered.set(region, 1);
              else if (oldest !== undefined) covered.set(region, Math.min(1, Math.max(covered.get(region) ?? 0, (until.getTime() - oldest) / span)));
              options.onProgress?.({ phase: 'pages', done: pages, events, bytes, fraction: fraction() });
            },
            stop: () => stopped?.reason,
          });
          if (outcome.status === 'reused') reused += outcome.state.pages;
          else if (outcome.status === 'stopped') failures.push(regionFailure(region, filter, `not read: ${outcome.reason}`));
          else if (outcome.status === 'failed') {
            const { failure, error, state } = outcome;
            if (failure.kind === 'credentials' && requests <= regions.length) throw new AwsCredentialsError(failure.reason, { cause: error });
            if (failure.kind === 'credentials' || failure.kind === 'expired') stopped ??= failure;
            failures.push(regionFailure(region, filter, `${failure.reason}${state.pages ? ` (after ${state.pages} pages; the next run resumes there)` : ''}`));
          }
        }
      } finally {
        client.destroy();
      }
    }),
  );
  const fatal = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (fatal) throw fatal.reason;

  const { paths, describe } = await cachedPages(folders, '.json');
  const summary = await ingestFiles({
    paths,
    store,
    scope,
    source: 'event-history',
    describeInput: describe,
    failures,
    arguments: {
      regions,
      since: isoSeconds(since),
      until: isoSeconds(until),
      filters: attributes.filter(Boolean).map((a) => `${a!.AttributeKey}=${a!.AttributeValue}`),
      requestsPerSecond: rate,
      endpoint: options.endpointUrl ?? null,
      profile: options.profile ?? null,
    },
    ...(signal ? { signal } : {}),
    ...(signal?.aborted ? { interrupted: true } : {}),
    ...options.load,
  });
  return {
    ...summary,
    source: 'event-history',
    remote: { requests, retries, fetched: pages, reused, bytes, failed: failures.length, seconds: Math.round((performance.now() - started) / 10) / 100 },
  };
}

/** The window LookupEvents can answer: the scope's, cut to the last 90 days (what is cut is recorded as skipped) and to now. */
function lookupWindow(scope: Scope, now: Date, failures: FailedInput[]): { since: Date; until: Date } {
  const oldest = new Date(now.getTime() - EVENT_HISTORY_DAYS * DAY);
  const until = scope.until && scope.until < now ? scope.until : now;
  let since = scope.since ?? oldest;
  if (since < oldest) {
    failures.push({ uri: 'event-history://*', status: 'skipped', reason: `Event History keeps ${EVENT_HISTORY_DAYS} days: events before ${isoSeconds(oldest)} are not in it (use the S3 trail archive for older ones)` });
    since = oldest;
  }
  if (since >= until) throw new UsageError(`the window ${isoSeconds(since)} .. ${isoSeconds(until)} is empty; Event History covers the last ${EVENT_HISTORY_DAYS} days`);

  return { since, until };
}

/** The regions to read: those given, or those the account has enabled (the default list when DescribeRegions fails), narrowed by the scope. */
async function regionsToRead(options: EventHistoryOptions, failures: FailedInput[]): Promise<string[]> {
  const scope = options.scope ?? {};
  let regions = options.regions?.length ? [...options.regions] : undefined;
  if (!regions) {
    const found = await enabledRegions(options, options.signal);
    if (found.failure && (found.failure.kind === 'credentials' || found.failure.kind === 'expired')) throw new AwsCredentialsError(found.failure.reason);
    if (found.failure) failures.push({ uri: 'ec2://DescribeRegions', status: 'failed', reason: `${found.failure.reason}; read the default regions instead (name opt-in regions with --regions)` });
    regions = [...found.regions];
  }
  if (scope.regions?.length) regions = regions.filter((r) => scope.regions!.includes(r));
  regions = [...new Set(regions)].sort();

  return regions;
}

/** One lookup per filter value (the API takes a single attribute per call); `undefined` means no filter. */
export function lookupAttributes(filters: LookupFilters): Array<LookupAttribute | undefined> {
  const out: LookupAttribute[] = [];
  const add = (key: LookupAttributeKey, values: readonly string[] | undefined) => {
    for (const value of values ?? []) out.push({ AttributeKey: key, AttributeValue: value });
  };
  add('AccessKeyId', filters.keys);
  add('Username', filters.users);
  add('EventName', filters.eventNames);
  return out.length > 0 ? out : [undefined];
}

function regionFailure(region: string, filter: string | null, reason: string): FailedInput {
  return { uri: `event-history://${region}${filter ? `?${filter}` : ''}`, status: 'failed', reason, region };
}
