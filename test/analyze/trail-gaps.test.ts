import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeCoverage } from '../../src/analyze/coverage.js';
import { Store } from '../../src/store/store.js';
import { ingest } from '../helpers/store.js';
import { Workspace } from '../helpers/workspace.js';

const ACCOUNT = '111122223333';
let n = 0;
function record(eventName: string, eventTime: string, region: string, requestParameters: Record<string, unknown> | null = null, eventSource = 'ec2.amazonaws.com') {
  n++;
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/ops`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLEOPS00001', userName: 'ops' },
    eventTime, eventSource, eventName, awsRegion: region, sourceIPAddress: '198.51.100.1', userAgent: 'aws-cli/2',
    requestParameters, responseElements: null, eventID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, readOnly: false, eventType: 'AwsApiCall', recipientAccountId: ACCOUNT,
  };
}

describe('a logging gap is one trail\'s', () => {
  let ws: Workspace;
  let store: Store;
  beforeEach(async () => {
    ws = new Workspace();
    store = await Store.open(':memory:');
  });
  afterEach(() => {
    store.close();
    ws.dispose();
  });

  it('ends, for coverage, where events of the same account and region are still recorded by another trail', async () => {
    const records = [
      record('DescribeInstances', '2026-03-04T11:00:00Z', 'eu-west-1'),
      record('DeleteTrail', '2026-03-04T12:08:04Z', 'eu-west-1', { name: 'audit-trail' }, 'cloudtrail.amazonaws.com'),
      // Another region's events say nothing of eu-west-1.
      record('DescribeInstances', '2026-03-04T12:09:00Z', 'us-east-1'),
      record('RunInstances', '2026-03-04T12:15:30Z', 'eu-west-1'),
      record('DescribeInstances', '2026-03-04T12:40:00Z', 'eu-west-1'),
    ];
    await ingest(store, [ws.write('r.json', JSON.stringify({ Records: records }))]);
    const gaps = (await storeCoverage(store, {})).gaps.filter((g) => g.kind === 'logging-stopped');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ region: 'eu-west-1', from: '2026-03-04T12:08:04Z', to: '2026-03-04T12:15:30Z' });
    expect(gaps[0]!.detail).toMatch(/DeleteTrail on trail audit-trail.*still recorded from 2026-03-04T12:15:30Z \(another trail delivers them\)/);
  });

  it('stays open to the end of the evidence when nothing more of that region is recorded', async () => {
    const records = [
      record('StopLogging', '2026-03-04T12:08:04Z', 'eu-west-1', { name: 'audit-trail' }, 'cloudtrail.amazonaws.com'),
      record('DescribeInstances', '2026-03-04T12:09:00Z', 'us-east-1'),
    ];
    await ingest(store, [ws.write('r.json', JSON.stringify({ Records: records }))]);
    const gaps = (await storeCoverage(store, {})).gaps.filter((g) => g.kind === 'logging-stopped');
    expect(gaps).toMatchObject([{ region: 'eu-west-1', from: '2026-03-04T12:08:04Z', to: null }]);
  });
});
