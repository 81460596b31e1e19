import pMap from 'p-map';

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order.
 * The first rejection rejects the whole map and no further item is started (p-map's
 * stopOnError); calls already running finish on their own.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return pMap(items, fn, { concurrency: Math.max(1, limit) });
}
