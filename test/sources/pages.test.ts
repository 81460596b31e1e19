import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCheckpoint, type PullIdentity } from '../../src/sources/evidence-cache.js';
import { pages, pullPages, type PageRequest } from '../../src/sources/pages.js';
import { Store } from '../../src/store/store.js';

/** A paginated API over `total` items, `size` a page, with errors injected by call number. */
function fakeApi(total: number, size: number, faults: Record<number, string> = {}) {
  const calls: Array<string | null> = [];
  const request: PageRequest<{ items: number[]; next?: string }> = {
    send: async (token) => {
      calls.push(token);
      const fault = faults[calls.length];
      if (fault) throw Object.assign(new Error(fault), { name: fault });
      const from = token ? Number(token.slice(1)) : 0;
      const items = Array.from({ length: Math.min(size, total - from) }, (_, i) => from + i);
      return from + size < total ? { items, next: `t${from + size}` } : { items };
    },
    nextToken: (page) => page.next,
    permission: 'test:List',
    maxAttempts: 3,
    backoffMs: 1,
  };
  return { calls, request };
}

const PULL: PullIdentity = { source: 'test', key: 'k', region: 'us-east-1', target: null, since: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-01-02T00:00:00Z'), filter: null };

describe('pages', () => {
  it('follows the tokens to the page without one, retrying a throttled call', async () => {
    const { calls, request } = fakeApi(10, 4, { 2: 'ThrottlingException' });
    const seen: number[][] = [];
    for await (const item of pages(request)) if (item.ok) seen.push(item.page.items);
    expect(seen).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(calls).toEqual([null, 't4', 't4', 't8']);
  });

  it('yields a failure retrying cannot fix as the last item', async () => {
    const { request } = fakeApi(10, 4, { 2: 'AccessDeniedException' });
    const items = [];
    for await (const item of pages(request)) items.push(item);
    expect(items).toHaveLength(2);
    expect(items[1]).toMatchObject({ ok: false, failure: { kind: 'denied' } });
  });
});

describe('pullPages', () => {
  let store: Store;
  beforeEach(async () => {
    store = await Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('resumes from its checkpoint after an abort, and is reused once done', async () => {
    const controller = new AbortController();
    const api = fakeApi(10, 2);
    const kept: number[] = [];
    const keep = async (page: { items: number[] }) => {
      kept.push(...page.items);
      if (kept.length === 4) controller.abort();
    };
    const first = await pullPages({ store, pull: PULL, request: { ...api.request, signal: controller.signal }, count: (p) => p.items.length, keep });
    expect(first.status).toBe('aborted');
    expect(await loadCheckpoint(store, 'test', 'k')).toEqual({ nextToken: 't4', pages: 2, events: 4, done: false });
    const second = await pullPages({ store, pull: PULL, request: api.request, count: (p) => p.items.length, keep });
    expect(second).toEqual({ status: 'done', state: { nextToken: null, pages: 5, events: 10, done: true } });
    expect(kept).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await pullPages({ store, pull: PULL, request: api.request, count: () => 0, keep })).status).toBe('reused');
  });

  it('restarts once from the first page when the saved token is refused, and fails the second time', async () => {
    const api = fakeApi(6, 2, { 2: 'InvalidNextTokenException' });
    const kept: number[] = [];
    const outcome = await pullPages({ store, pull: PULL, request: api.request, count: (p) => p.items.length, keep: async (p) => void kept.push(...p.items) });
    expect(outcome.status).toBe('done');
    expect(api.calls).toEqual([null, 't2', null, 't2', 't4']);
    expect(kept).toEqual([0, 1, 0, 1, 2, 3, 4, 5]);

    const twice = fakeApi(6, 2, { 2: 'InvalidNextTokenException', 3: 'InvalidNextTokenException' });
    const failed = await pullPages({ store, pull: { ...PULL, key: 'k2' }, request: twice.request, count: (p) => p.items.length, keep: async () => undefined });
    expect(failed).toMatchObject({ status: 'failed', failure: { kind: 'invalid-token' }, state: { pages: 1 } });
  });

  it('stops before the next request when told to, with the pages kept so far checkpointed', async () => {
    let stop: string | undefined;
    const api = fakeApi(10, 2);
    const outcome = await pullPages({
      store,
      pull: PULL,
      request: api.request,
      count: (p) => p.items.length,
      keep: async (_p, state) => {
        if (state.pages === 2) stop = 'credentials expired elsewhere';
      },
      stop: () => stop,
    });
    expect(outcome).toMatchObject({ status: 'stopped', reason: 'credentials expired elsewhere' });
    expect(api.calls).toEqual([null, 't2']);
    expect(await loadCheckpoint(store, 'test', 'k')).toEqual({ nextToken: 't4', pages: 2, events: 4, done: false });
  });
});
