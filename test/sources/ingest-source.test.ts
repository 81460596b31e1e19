import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { ingest, sandbox } from '../helpers/store.js';
import { records, recordsFile, type Workspace } from '../helpers/workspace.js';

describe('ingestFiles for remote sources', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => ((ws = w), (store = s)));

  it('records the source, the remote uri and the failures of the run', async () => {
    const key = 'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1000Z_a.json.gz';
    const path = ws.write(`cache/${key}`, recordsFile(records(5)));
    const summary = await ingest(store, [path], {
      source: 's3',
      describeInput: (p) => (p === path ? { uri: `s3://trail-bucket/${key}` } : undefined),
      failures: [{ uri: 's3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/', status: 'failed', reason: 'AccessDenied: s3:ListBucket is missing', account: '111122223333', region: 'us-east-1' }],
      arguments: { bucket: 'trail-bucket' },
    });
    expect(summary.eventsLoaded).toBe(5);
    expect(summary.status).toBe('completed-with-skips');
    expect(summary.skipped).toEqual([{ path: 's3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/', reason: 'AccessDenied: s3:ListBucket is missing' }]);
    const rows = await store.all(`select source, uri, status, account, region from inputs order by input_id`);
    expect(rows).toEqual([
      { source: 's3', uri: 's3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/', status: 'failed', account: '111122223333', region: 'us-east-1' },
      { source: 's3', uri: `s3://trail-bucket/${key}`, status: 'loaded', account: '111122223333', region: 'eu-west-1' },
    ]);
    const run = await store.one<{ source: string; arguments: string }>(`select source, arguments::varchar as arguments from ingest_runs`);
    expect(run?.source).toBe('s3');
    expect(JSON.parse(run!.arguments)).toEqual({ bucket: 'trail-bucket' });
  });

  it('keeps local ingests as they were', async () => {
    const path = ws.write('a.json', recordsFile(records(3)));
    await ingest(store, [path]);
    const row = await store.one(`select i.source as input_source, r.source as run_source, i.uri from inputs i join ingest_runs r using (run_id)`);
    expect(row).toEqual({ input_source: 'file', run_source: 'files', uri: path });
  });
});
