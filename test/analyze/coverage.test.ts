import { describe, expect, it } from 'vitest';
import { storeCoverage } from '../../src/analyze/coverage.js';
import type { CloudTrailRecord } from '../../src/core/record.js';
import type { Store } from '../../src/store/store.js';
import { iamUserIdentity, makeCall, makeRecord } from '../../synth/records.js';
import { count, ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

const A = '111122223333';
const alice = iamUserIdentity({ account: A, userName: 'alice' });

function day(d: number, region = 'us-east-1', name: 'ListBuckets' | 'DescribeInstances' = 'DescribeInstances'): CloudTrailRecord {
  return makeRecord(name, { eventTime: `2026-04-${String(d).padStart(2, '0')}T12:00:00Z`, awsRegion: region, userIdentity: alice });
}

describe('coverage', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => {
    ws = w;
    store = s;
  });

  async function summed(): Promise<number> {
    const row = await store.one<{ n: bigint | null }>('select sum(events)::bigint as n from event_days');
    return Number(row?.n ?? 0);
  }

  it('keeps the day summary equal to the events, through duplicates, rejects and scoped loads', async () => {
    const records = [day(1), day(2), day(2, 'eu-west-1'), day(5)];
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: records }))]);
    // The same events again, plus one more, in another file: only the new one counts.
    await ingest(store, [ws.write('b.json', JSON.stringify({ Records: [...records, day(6)] }))]);
    await ingest(store, [ws.write('c.json', JSON.stringify({ Records: [day(7), { not: 'cloudtrail' }] }))]);
    await ingest(store, [ws.write('d.json', JSON.stringify({ Records: [day(8), day(8, 'sa-east-1')] }))], { scope: { regions: ['sa-east-1'] } });
    expect(await count(store)).toBe(7);
    expect(await summed()).toBe(7);
  });

  it('finds days without events, logging stopped without a restart, and skipped inputs', async () => {
    const stop = makeCall('StopLogging', 'cloudtrail.amazonaws.com', { eventTime: '2026-04-05T13:00:00Z', userIdentity: alice, requestParameters: { name: `arn:aws:cloudtrail:us-east-1:${A}:trail/main` } });
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: [day(1), day(2), day(5), stop, day(2, 'eu-west-1'), day(3, 'eu-west-1')] })), ws.write('bad.json.gz', Buffer.from('not gzip at all'))]);
    const coverage = await storeCoverage(store, {});
    expect(coverage).toMatchObject({ from: '2026-04-01T12:00:00Z', to: '2026-04-05T13:00:00Z', events: 6, accounts: [A], regions: ['eu-west-1', 'us-east-1'] });
    expect(coverage.gaps.filter((g) => g.kind === 'no-files')).toEqual([
      { kind: 'no-files', account: A, region: 'us-east-1', from: '2026-04-03T00:00:00Z', to: '2026-04-04T23:59:59Z', detail: 'no events on 2 days, 2026-04-03 to 2026-04-04' },
    ]);
    expect(coverage.gaps.find((g) => g.kind === 'logging-stopped')).toMatchObject({ from: '2026-04-05T13:00:00Z', to: null, detail: expect.stringContaining('no StartLogging') });
    expect(coverage.gaps.find((g) => g.kind === 'input-skipped')?.detail).toMatch(/bad\.json\.gz: /);
    // A window: exact edges from the events, the days around them from the summary.
    const window = await storeCoverage(store, { since: new Date('2026-04-02T00:00:00Z'), until: new Date('2026-04-03T00:00:00Z'), accounts: [A] });
    expect(window).toMatchObject({ from: '2026-04-02T12:00:00Z', to: '2026-04-02T12:00:00Z', events: 2 });
    expect(window.gaps.some((g) => g.kind === 'logging-stopped')).toBe(false);
    const elsewhere = await storeCoverage(store, { accounts: ['999988887777'] });
    expect(elsewhere).toMatchObject({ events: 0, from: null, accounts: [] });
  });

  it('forgets a skipped input once a later run loads it', async () => {
    const path = ws.write('late.json', '{"Records": [');
    await ingest(store, [path]);
    expect((await storeCoverage(store, {})).gaps.map((g) => g.kind)).toEqual(['input-skipped']);
    ws.write('late.json', JSON.stringify({ Records: [day(1)] }));
    await ingest(store, [path]);
    expect((await storeCoverage(store, {})).gaps).toEqual([]);
  });
  it('cites what the latest verify run found wrong', async () => {
    await ingest(store, [ws.write('a.json', JSON.stringify({ Records: [day(1), day(2)] }))]);
    const run = (id: string, started: string) => store.run(`insert into verify_runs (verify_run_id, started_at) values (?, ?::timestamptz)`, [id, started]);
    const result = (id: string, kind: string, status: string, uri: string | null, from: string | null, to: string | null) =>
      store.run(
        `insert into verify_results (verify_run_id, kind, status, uri, account, region, period_start, period_end, detail) values (?, ?, ?, ?, ?, 'us-east-1', ?::timestamptz, ?::timestamptz, 'why')`,
        [id, kind, status, uri, A, from, to],
      );
    await run('old', '2026-04-10T00:00:00Z');
    await result('old', 'log-file', 'modified', 's3://b/old.json.gz', null, null);
    await run('new', '2026-04-11T00:00:00Z');
    await result('new', 'log-file', 'verified', 's3://b/ok.json.gz', null, null);
    await result('new', 'log-file', 'modified', 's3://b/changed.json.gz', null, null);
    await result('new', 'gap', 'digest-gap', null, '2026-04-01T13:00:00Z', '2026-04-01T15:00:00Z');
    await result('new', 'silent', 'no-log-files', null, '2026-04-01T16:00:00Z', '2026-04-01T18:00:00Z');
    await result('new', 'digest', 'signature-invalid', 's3://b/digest.json.gz', null, null);
    await result('new', 'digest', 'signature-ok', 's3://b/good-digest.json.gz', null, null);
    const gaps = (await storeCoverage(store, {})).gaps.filter((g) => g.detail.startsWith('verify:'));
    expect(gaps.map((g) => [g.kind, g.from])).toEqual([
      ['digest-missing', '2026-04-01T13:00:00Z'],
      ['no-files', '2026-04-01T16:00:00Z'],
      ['file-modified', null],
      ['file-modified', null],
    ]);
    expect(gaps[2]!.detail).toContain('s3://b/changed.json.gz');
  });
});
