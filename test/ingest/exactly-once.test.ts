import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { count, ingest, sandbox } from '../helpers/store.js';
import { Workspace, jsonLines, lookupEventsFile, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

describe('ingest: exactly once', () => {
  it('re-ingesting the same inputs adds nothing', async () => {
    ws.write('a/one.json.gz', recordsFile(records(10, 1)));
    ws.write('a/two.json.gz', recordsFile(records(10, 2)));
    const first = await ingest(store, [ws.root]);
    const second = await ingest(store, [ws.root]);
    expect(first.eventsLoaded).toBe(20);
    expect(second.eventsLoaded).toBe(0);
    expect(second.alreadyIngested).toBe(2);
    expect(await count(store)).toBe(20);
  });

  it('the same events from several sources are stored once, with the first provenance', async () => {
    const list = records(6, 3);
    ws.write('s3/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/f.json.gz', recordsFile(list));
    ws.write('lookup.json', lookupEventsFile(list.slice(0, 4)));
    ws.write('export.jsonl', jsonLines([...list.slice(2), ...records(2, 4)]));
    const summary = await ingest(store, [ws.root]);
    expect(summary.eventsLoaded).toBe(8);
    expect(summary.duplicates).toBe(8);
    expect(await count(store)).toBe(8);
    expect(await count(store, 'select count(distinct eventid) as n from events')).toBe(8);
  });

  it('duplicates inside one file are stored once', async () => {
    const list = records(3, 5);
    const summary = await ingest(store, [ws.write('dup.json', recordsFile([...list, ...list]))]);
    expect(summary.eventsLoaded).toBe(3);
    expect(summary.duplicates).toBe(3);
  });

  it('events without an eventID load, keyed on a stable hash of the record', async () => {
    const list = records(3, 6).map(({ eventID: _drop, ...rest }) => rest);
    await ingest(store, [ws.write('noid.json', recordsFile(list))]);
    await ingest(store, [ws.write('noid-again.jsonl', jsonLines(list))]);
    const keys = await store.all<{ eventkey: string; eventid: string | null }>('select eventkey, eventid from events');
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      expect(key.eventid).toBeNull();
      expect(key.eventkey).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it('the same file content under another name is recognised', async () => {
    const text = recordsFile(records(4, 7));
    ws.write('x/copy-1.json', text);
    ws.write('x/copy-2.json', text);
    const summary = await ingest(store, [ws.root]);
    expect(summary.eventsLoaded).toBe(4);
    expect(summary.alreadyIngested).toBe(1);
  });

  it('records every run and every input in the manifest', async () => {
    ws.write('m/a.json', recordsFile(records(2, 8)));
    const run = await ingest(store, [ws.root]);
    const runs = await store.all<{ run_id: string; status: string; events_loaded: number }>('select run_id, status, events_loaded from ingest_runs');
    expect(runs).toEqual([{ run_id: run.runId, status: 'completed', events_loaded: 2 }]);
    const inputs = await store.all<{ status: string; records: number; loaded: number }>('select status, records, loaded from inputs');
    expect(inputs).toEqual([{ status: 'loaded', records: 2, loaded: 2 }]);
  });
});

describe('ingest: scope', () => {
  function layout(): void {
    const at = (day: number, region: string, account: string, seed: number) =>
      ws.write(
        `AWSLogs/${account}/CloudTrail/${region}/2026/03/0${day}/f${seed}.json.gz`,
        recordsFile(
          records(4, seed, ['DescribeInstances', 'RunInstances'], {
            eventTime: `2026-03-0${day}T12:00:00Z`,
            awsRegion: region,
            recipientAccountId: account,
          }),
        ),
      );
    at(1, 'us-east-1', '111122223333', 1);
    at(2, 'us-east-1', '111122223333', 2);
    at(3, 'eu-west-1', '111122223333', 3);
    at(3, 'us-east-1', '444455556666', 4);
  }

  it('--since/--until prune day folders and filter events exactly', async () => {
    layout();
    const summary = await ingest(store, [ws.root], { scope: { since: new Date('2026-03-02T00:00:00Z'), until: new Date('2026-03-02T23:59:59Z') } });
    expect(summary.eventsLoaded).toBe(4);
    expect(summary.prunedDirectories).toBeGreaterThanOrEqual(1);
  });

  it('--account and --region prune folders without opening them', async () => {
    layout();
    const summary = await ingest(store, [ws.root], { scope: { accounts: ['111122223333'], regions: ['us-east-1'] } });
    expect(summary.eventsLoaded).toBe(8);
    expect(summary.filesFound).toBe(2);
    expect(summary.accounts).toEqual(['111122223333']);
    expect(summary.regions).toEqual(['us-east-1']);
  });

  it('filters files outside the trail layout by their events', async () => {
    ws.write('flat.jsonl', jsonLines([...records(2, 9, ['DescribeInstances'], { awsRegion: 'us-east-1' }), ...records(3, 10, ['DescribeInstances'], { awsRegion: 'ap-south-1' })]));
    const summary = await ingest(store, [ws.root], { scope: { regions: ['ap-south-1'] } });
    expect(summary.eventsLoaded).toBe(3);
  });

  it('files loaded under a scope are read again by a later, wider ingest', async () => {
    const path = ws.write('flat.jsonl', jsonLines([...records(2, 9, ['DescribeInstances'], { awsRegion: 'us-east-1' }), ...records(3, 10, ['DescribeInstances'], { awsRegion: 'ap-south-1' })]));
    expect((await ingest(store, [path], { scope: { regions: ['ap-south-1'] } })).eventsLoaded).toBe(3);
    const wider = await ingest(store, [path]);
    expect(wider.alreadyIngested).toBe(0);
    expect(wider.eventsLoaded).toBe(2);
    expect(wider.duplicates).toBe(3);
    expect((await ingest(store, [path])).alreadyIngested).toBe(1);
  });
});

describe('ingest: segments', () => {
  it('large batches get segments of their own; dedup and the events view span them all', async () => {
    const list = records(30, 11);
    ws.write('a/one.json', recordsFile(list.slice(0, 20)));
    ws.write('b/two.json', recordsFile(list.slice(10)));
    ws.write('c/three.jsonl', jsonLines(records(5, 12)));
    const options = { batchBytes: 1, newSegmentBytes: 1 };
    const first = await ingest(store, [ws.path('a')], options);
    const second = await ingest(store, [ws.path('b')], options);
    const third = await ingest(store, [ws.path('c')], options);
    expect([first.eventsLoaded, second.eventsLoaded, third.eventsLoaded]).toEqual([20, 10, 5]);
    expect(second.duplicates).toBe(10);
    const segments = await store.all<{ segment_id: number; n: number }>(`select segment_id, count(*)::bigint as n from event_rows group by 1 order by 1`);
    expect(segments).toEqual([
      { segment_id: 0, n: 20 },
      { segment_id: 1, n: 10 },
      { segment_id: 2, n: 5 },
    ]);
    expect(await count(store)).toBe(35);
    expect(await count(store, 'select count(distinct eventid) as n from events')).toBe(35);
  });

  it('a later copy of an event is removed from the segment that holds it, the first kept', async () => {
    const list = records(4, 13);
    ws.write('x/first.json', recordsFile(list));
    const first = await ingest(store, [ws.path('x')], { newSegmentBytes: 1 });
    ws.write('y/again.jsonl', jsonLines([...list, ...records(1, 14)]));
    const again = await ingest(store, [ws.path('y')], { newSegmentBytes: 1 });
    expect(again.duplicates).toBe(4);
    const runs = await store.all<{ run_id: string; n: number }>(`select run_id, count(*)::bigint as n from events group by 1 order by n desc`);
    expect(runs).toEqual([
      { run_id: first.runId, n: 4 },
      { run_id: again.runId, n: 1 },
    ]);
  });
});
