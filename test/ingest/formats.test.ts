import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { makeRecord } from '../../synth/records.js';
import { count, ingest, sandbox } from '../helpers/store.js';
import { Workspace, jsonLines, lookupEventsFile, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

describe('ingest: every CloudTrail file shape', () => {
  const shapes: Array<[string, string, (r: ReturnType<typeof records>) => string]> = [
    ['Records-wrapped, gzip', 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/a.json.gz', recordsFile],
    ['Records-wrapped, plain', 'a.json', recordsFile],
    ['Records-wrapped, pretty-printed', 'pretty.json', (r) => JSON.stringify({ Records: r }, null, 2)],
    ['bare array', 'array.json', (r) => JSON.stringify(r, null, 1)],
    ['JSON Lines', 'events.jsonl', jsonLines],
    ['JSON Lines, gzip', 'events.jsonl.gz', jsonLines],
    ['lookup-events output', 'lookup.json', lookupEventsFile],
    ['Event history download (array of events with CloudTrailEvent)', 'history.json', (r) => JSON.stringify(r.map((x) => ({ EventId: x.eventID, CloudTrailEvent: JSON.stringify(x) })))],
    ['gzip without a .gz name', 'renamed.json', recordsFile],
  ];

  it.each(shapes)('loads %s', async (_label, name, render) => {
    const list = records(7);
    const path = name === 'renamed.json' ? ws.writeRaw(name, (await import('node:zlib')).gzipSync(render(list))) : ws.write(name, render(list));
    const summary = await ingest(store, [path]);
    expect(summary.skipped).toEqual([]);
    expect(summary.eventsLoaded).toBe(7);
    const ids = await store.all<{ eventid: string }>('select eventid from events order by eventid');
    expect(ids.map((r) => r.eventid)).toEqual(list.map((r) => r.eventID).sort());
  });

  it('loads a single pretty-printed record', async () => {
    const [one] = records(1);
    const summary = await ingest(store, [ws.write('single.json', JSON.stringify(one, null, 2))]);
    expect(summary.eventsLoaded).toBe(1);
  });

  it('fills the Athena-named columns and the flattened identity columns', async () => {
    const record = makeRecord('CreateAccessKey', {
      eventTime: '2026-03-04T05:06:07Z',
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.9',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ci-deploy', accessKeyId: 'AKIAEXAMPLEKEY000001', userName: 'ci-deploy', accountId: '111122223333' },
    });
    const denied = makeRecord('ListUsers', { errorCode: 'AccessDenied', errorMessage: 'User: x is not authorized to perform: iam:ListUsers' });
    await ingest(store, [ws.write('one.json', recordsFile([record, denied]))]);
    const failed = await store.one(`select errorcode, errormessage from events where eventname = 'ListUsers'`);
    expect(failed).toEqual({ errorcode: 'AccessDenied', errormessage: 'User: x is not authorized to perform: iam:ListUsers' });
    const row = await store.one(`select * exclude (record, input_id, run_id) from events where eventname = 'CreateAccessKey'`);
    expect(row).toMatchObject({
      eventkey: record.eventID,
      eventid: record.eventID,
      eventtime: '2026-03-04T05:06:07Z',
      eventname: 'CreateAccessKey',
      eventsource: 'iam.amazonaws.com',
      awsregion: 'us-east-1',
      sourceipaddress: '203.0.113.9',
      readonly: false,
      recipientaccountid: '111122223333',
      useridentity_type: 'IAMUser',
      principal_arn: 'arn:aws:iam::111122223333:user/ci-deploy',
      access_key_id: 'AKIAEXAMPLEKEY000001',
      user_name: 'ci-deploy',
      principal_account: '111122223333',
      record_index: 0,
    });
    const nested = await store.one<{ u: string; k: string }>(`select useridentity->>'userName' as u, responseelements->>'$.accessKey.accessKeyId' as k from events where eventname = 'CreateAccessKey'`);
    expect(nested?.u).toBe('ci-deploy');
    expect(nested?.k).toBe((record.responseElements as { accessKey: { accessKeyId: string } }).accessKey.accessKeyId);
  });

  it('keeps the complete original record, unknown fields included, and where it came from', async () => {
    const record = { ...makeRecord('ListBuckets'), brandNewField: { nested: [1, 'two', null] }, eventVersion: '9.99' };
    const path = ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/x.json.gz', recordsFile([record]));
    const summary = await ingest(store, [path]);
    const row = await store.one<{ record: string; uri: string; sha256: string; run_id: string; format: string; account: string; region: string }>(
      `select e.record, i.uri, i.sha256, e.run_id, i.format, i.account, i.region from events e join inputs i using (input_id)`,
    );
    expect(JSON.parse(row!.record)).toEqual(record);
    expect(Object.keys(JSON.parse(row!.record))).toEqual(Object.keys(record));
    expect(row!.uri).toBe(path);
    expect(row!.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(row!.run_id).toBe(summary.runId);
    expect(row).toMatchObject({ format: 'records', account: '111122223333', region: 'us-east-1' });
  });

  it('walks directories recursively and ignores files that are not logs', async () => {
    ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/a.json.gz', recordsFile(records(3, 1)));
    ws.write('AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/b.json.gz', recordsFile(records(4, 2)));
    ws.write('README.txt', 'not a log');
    ws.write('.DS_Store', 'x');
    const summary = await ingest(store, [ws.root]);
    expect(summary.eventsLoaded).toBe(7);
    expect(summary.filesRead).toBe(2);
    expect(summary.ignoredFiles).toBe(1);
    expect(summary.skipped).toEqual([]);
  });

  it('records digest files for later validation without loading them as events', async () => {
    const digest = {
      awsAccountId: '111122223333',
      digestStartTime: '2026-03-02T00:00:00Z',
      digestEndTime: '2026-03-02T01:00:00Z',
      digestS3Bucket: 'trail-bucket',
      digestS3Object: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02/d.json.gz',
      logFiles: [],
    };
    ws.write('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02/d.json.gz', JSON.stringify(digest));
    const summary = await ingest(store, [ws.root]);
    expect(summary.digestFiles).toBe(1);
    expect(summary.eventsLoaded).toBe(0);
    const row = await store.one<{ account: string; region: string; digest_start: string; content: string }>(`select account, region, digest_start, content from digests`);
    expect(row).toMatchObject({ account: '111122223333', region: 'us-east-1', digest_start: '2026-03-02T00:00:00Z' });
    expect(JSON.parse(row!.content)).toEqual(digest);
    expect(await count(store)).toBe(0);
  });

  it('keeps events of unknown services, regions and event versions', async () => {
    const odd = makeRecord('DescribeInstances', { eventSource: 'brandnew.amazonaws.com', eventName: 'DoSomethingNew', awsRegion: 'xx-future-9', eventVersion: '2.00' });
    const summary = await ingest(store, [ws.write('odd.json', recordsFile([odd]))]);
    expect(summary.eventsLoaded).toBe(1);
    expect(summary.regions).toEqual(['xx-future-9']);
  });
});
