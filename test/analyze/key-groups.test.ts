import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { duckdbSource, fetchByKeyGroups } from '../../src/analyze/duckdb-source.js';
import type { Store } from '../../src/store/store.js';
import { iamUserIdentity, makeRecord } from '../../synth/records.js';
import { ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const KEYS = ['AKIAFIRSTKEY00000001', 'AKIASECONDKEY0000002', 'AKIATHIRDKEY00000003'];

function records(file: number) {
  return Array.from({ length: 300 }, (_, i) =>
    makeRecord(i % 2 ? 'ListBuckets' : 'DescribeInstances', {
      eventTime: new Date(Date.parse('2026-04-01T00:00:00Z') + (file * 300 + i) * 60_000).toISOString().replace('.000Z', 'Z'),
      userIdentity: iamUserIdentity({ account: '111122223333', userName: `u${i % 3}`, accessKeyId: KEYS[i % 3]! }),
      awsRegion: i % 5 ? 'us-east-1' : 'eu-west-1',
    }),
  );
}

describe('key lookups through key_groups', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => {
    ws = w;
    store = s;
  });

  async function scan(keys: string[], extra = ''): Promise<string[]> {
    const rows = await store.all<{ id: string }>(
      `select eventkey as id from events where list_contains($keys, access_key_id) ${extra} order by eventtime, eventkey`,
      { keys: listValue(keys) },
      { keys: LIST(VARCHAR) },
    );
    return rows.map((r) => r.id);
  }

  it('keeps one map row per key, segment and row group, and answers like a scan', async () => {
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: records(0) }))]);
    await ingest(store, [ws.write('b.json', JSON.stringify({ Records: [...records(1), ...records(0)] }))]);
    const map = await store.all<{ n: bigint }>('select sum(events)::bigint as n from key_groups');
    expect(Number(map[0]!.n)).toBe(600);
    const source = duckdbSource(store);
    const one = await source.fetchEvents({ keys: [KEYS[0]!] });
    expect(one.map((e) => e.eventId)).toEqual(await scan([KEYS[0]!]));
    expect(one).toHaveLength(200);
    // The answer came through the map, not the fallback scan.
    expect((await fetchByKeyGroups(store, { keys: [KEYS[0]!] }))?.map((e) => e.eventId)).toEqual(one.map((e) => e.eventId));
    const windowed = await source.fetchEvents({ keys: [KEYS[1]!, KEYS[2]!], regions: ['eu-west-1'], since: new Date('2026-04-01T02:00:00Z'), limit: 10 });
    expect(windowed.map((e) => e.eventId)).toEqual(
      (await scan([KEYS[1]!, KEYS[2]!], `and awsregion = 'eu-west-1' and eventtime >= '2026-04-01T02:00:00Z'`)).slice(0, 10),
    );
    expect(await source.fetchEvents({ keys: ['AKIANEVERSEEN0000000'] })).toEqual([]);
    // Many keys (a level of minted session keys) go through a join instead of equalities.
    const many = [...KEYS, ...Array.from({ length: 30 }, (_, i) => `ASIANEVERSEEN${String(i).padStart(7, '0')}`)];
    expect((await fetchByKeyGroups(store, { keys: many }))?.map((e) => e.eventId)).toEqual(await scan(KEYS));
  });

  it('falls back to a scan when the map no longer matches the rows', async () => {
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: records(0) }))]);
    // Rows removed behind the map's back (as a rewrite of the table could move them): the counts disagree.
    await store.run(`delete from event_rows_0 where rowid in (select rowid from event_rows_0 where access_key_id = '${KEYS[0]}' limit 7)`);
    const found = await duckdbSource(store).fetchEvents({ keys: [KEYS[0]!] });
    expect(await fetchByKeyGroups(store, { keys: [KEYS[0]!] })).toBeNull();
    expect(found).toHaveLength(93);
    expect(found.map((e) => e.eventId)).toEqual(await scan([KEYS[0]!]));
  });
  it('is not trusted while it lags behind the loads, and the next load catches it up', async () => {
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: records(0) }))]);
    // A run cut off after its batch committed and before the map caught up.
    await store.run('delete from key_groups');
    await store.run('update key_groups_state set through_input = 0');
    expect(await fetchByKeyGroups(store, { keys: [KEYS[0]!] })).toBeNull();
    expect(await duckdbSource(store).fetchEvents({ keys: [KEYS[0]!] })).toHaveLength(100);
    // Any later run catches it up, even one with nothing new to load.
    const again = await ingest(store, [ws.path('a.json')]);
    expect(again.eventsLoaded).toBe(0);
    expect(await fetchByKeyGroups(store, { keys: [KEYS[0]!] })).toHaveLength(100);
    await ingest(store, [ws.write('b.json', JSON.stringify({ Records: records(1) }))]);
    expect(await fetchByKeyGroups(store, { keys: [KEYS[0]!] })).toHaveLength(200);
    const map = await store.all<{ n: bigint }>('select sum(events)::bigint as n from key_groups');
    expect(Number(map[0]!.n)).toBe(600);
  });
});
