/**
 * Token-paginated AWS calls, written once: ListObjectsV2 (S3 listings), LookupEvents (Event
 * History), FilterLogEvents (CloudWatch Logs) and GetQueryResults (Athena) all page the same
 * way: send with the last page's token, retry what can be retried, stop at the page without a
 * token. `pages` is that loop; `pullPages` adds the checkpoint that makes a long pull resume
 * where it stopped, and the one restart that an expired token calls for.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteInputInfo } from '../ingest/pipeline.js';
import type { Store } from '../store/store.js';
import { withRetries, type AwsFailure } from './aws.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type PullIdentity } from './evidence-cache.js';

/** How one paginated call is made. */
export interface PageRequest<P> {
  /** Sends the request for the page after `token` (null: the first page). */
  send(token: string | null): Promise<P>;
  /** The token of the page after this one; none (or '') on the last page. */
  nextToken(page: P): string | null | undefined;
  /** The IAM permission the call needs, for the failure's reason. */
  readonly permission: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly signal?: AbortSignal;
  /** Runs before every attempt (a pacer's wait). */
  readonly beforeAttempt?: () => Promise<void>;
  readonly onRetry?: (failure: AwsFailure) => void;
}

/** A page, or the failure that ended the pages (always the last item). */
export type PageItem<P> =
  | { readonly ok: true; readonly page: P; readonly nextToken: string | null }
  | { readonly ok: false; readonly failure: AwsFailure; readonly error: unknown };

/**
 * The pages from `start` (a saved token, or null) to the last; a failure that retrying did not
 * fix is yielded and ends them (a request cut short by the signal is one too: the caller says
 * whether that is a failure). An aborted signal ends them after the page in hand.
 */
export async function* pages<P>(request: PageRequest<P>, start: string | null = null): AsyncGenerator<PageItem<P>> {
  let token = start;
  do {
    if (request.signal?.aborted) return;
    const sent = token;
    const result = await withRetries(() => request.send(sent), {
      permission: request.permission,
      maxAttempts: request.maxAttempts,
      backoffMs: request.backoffMs,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.beforeAttempt ? { beforeAttempt: request.beforeAttempt } : {}),
      ...(request.onRetry ? { onRetry: request.onRetry } : {}),
    });
    if (!result.ok) {
      yield { ok: false, failure: result.failure, error: result.error };
      return;
    }
    token = request.nextToken(result.value) || null;
    yield { ok: true, page: result.value, nextToken: token };
  } while (token);
}

/** How a checkpointed pull ended. */
export type PullOutcome =
  | { readonly status: 'done' | 'aborted'; readonly state: Checkpoint }
  /** Finished by an earlier run: nothing was sent. */
  | { readonly status: 'reused'; readonly state: Checkpoint }
  /** `stop` said to stop before the next request. */
  | { readonly status: 'stopped'; readonly state: Checkpoint; readonly reason: string }
  | { readonly status: 'failed'; readonly state: Checkpoint; readonly failure: AwsFailure; readonly error: unknown };

/** A paginated pull into the evidence cache, resumable from its checkpoint. */
export interface CheckpointedPull<P> {
  readonly store: Store;
  readonly pull: PullIdentity;
  readonly request: PageRequest<P>;
  /** The events a page holds (counted in the checkpoint). */
  count(page: P): number;
  /**
   * Keeps a page (writes it to the cache, reports progress). The checkpoint naming the page is
   * saved after it, so checkpoints stay in page order and never name a page not in the cache.
   */
  keep(page: P, state: Checkpoint): Promise<void>;
  /**
   * Keep each page while the next one is requested (for a paced call, whose next request waits
   * for its slot anyway); otherwise the next request leaves once the page is kept.
   */
  readonly overlap?: boolean;
  /** Asked before each request: a reason stops the pull (another region lost its credentials). */
  readonly stop?: () => string | undefined;
}

/**
 * Runs a pull to its end from where an earlier run left it. A saved token that AWS no longer
 * takes restarts the pull once from the first page (the events already stored are not added
 * twice: the load deduplicates).
 */
export async function pullPages<P>(options: CheckpointedPull<P>): Promise<PullOutcome> {
  const { store, pull } = options;
  let state: Checkpoint = (await loadCheckpoint(store, pull.source, pull.key)) ?? { nextToken: null, pages: 0, events: 0, done: false };
  if (state.done) return { status: 'reused', state };
  let kept: Promise<void> = Promise.resolve();
  let restarted = false;
  try {
    for (;;) {
      const reason = options.stop?.();
      if (reason) return { status: 'stopped', state, reason };
      let failed: Extract<PageItem<P>, { ok: false }> | undefined;
      for await (const item of pages(options.request, state.nextToken)) {
        if (!item.ok) {
          failed = item;
          break;
        }
        state = { nextToken: item.nextToken, pages: state.pages + 1, events: state.events + options.count(item.page), done: !item.nextToken };
        const saved = state;
        kept = kept.then(async () => {
          await options.keep(item.page, saved);
          await saveCheckpoint(store, pull, saved);
        });
        if (!options.overlap) await kept;
        if (!saved.done) {
          const again = options.stop?.();
          if (again) {
            await kept;
            return { status: 'stopped', state, reason: again };
          }
        }
      }
      await kept;
      // A request cut short by Ctrl-C is no failure: the next run resumes from the checkpoint.
      if (!failed || options.request.signal?.aborted) return { status: state.done ? 'done' : 'aborted', state };
      if (failed.failure.kind === 'invalid-token' && !restarted) {
        restarted = true;
        state = { ...state, nextToken: null };
        continue;
      }
      return { status: 'failed', state, failure: failed.failure, error: failed.error };
    }
  } finally {
    await kept.catch(() => undefined);
  }
}

/** A pull's cache folder, and the URI its pages are named by in the inputs manifest. */
export interface PageFolder {
  readonly dir: string;
  /** e.g. `event-history://us-east-1/<folder>`; each page adds `/page-000001`. */
  readonly uri: string;
  readonly region: string;
}

/**
 * Every page in the pulls' cache folders, including those an earlier, interrupted run fetched,
 * in page order, with the URI each is recorded under.
 */
export async function cachedPages(folders: readonly PageFolder[], extension: '.json' | '.jsonl'): Promise<{ paths: string[]; describe: (path: string) => RemoteInputInfo | undefined }> {
  const uris = new Map<string, RemoteInputInfo>();
  const paths: string[] = [];
  const pattern = new RegExp(`^page-\\d+\\${extension}$`);
  for (const { dir, uri, region } of folders) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => pattern.test(n)).sort()) {
      const path = join(dir, name);
      paths.push(path);
      uris.set(path, { uri: `${uri}/${name.slice(0, -extension.length)}`, region });
    }
  }
  return { paths, describe: (path) => uris.get(path) };
}
