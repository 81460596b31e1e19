import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { ingest } from '../helpers/store.js';
import { Workspace } from '../helpers/workspace.js';

/** An Insights pair as CloudTrail delivers it under CloudTrail-Insight/: no eventName or eventSource at the top. */
function insight(state: 'Start' | 'End', eventTime: string, eventID: string): Record<string, unknown> {
  return {
    eventVersion: '1.07',
    eventTime,
    awsRegion: 'us-east-1',
    eventID,
    eventType: 'AwsCloudTrailInsight',
    recipientAccountId: '111122223333',
    sharedEventID: '7bb000gg-22b3-4c03-94af-c74tj0c8m7c0',
    insightDetails: {
      state,
      eventSource: 'ssm.amazonaws.com',
      eventName: 'UpdateInstanceInformation',
      insightType: 'ApiCallRateInsight',
      ...(state === 'Start' ? { insightContext: { statistics: { baseline: { average: 85.42 }, insight: { average: 664 }, insightDuration: 5, baselineDuration: 11636 } } } : {}),
    },
    eventCategory: 'Insight',
  };
}

describe('CloudTrail Insights records', () => {
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

  it('load (not rejected for lacking a top-level eventName), kept apart by their category, and become one finding with baseline and insight', async () => {
    const path = ws.write('AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/03/02/111122223333_CloudTrail-Insight_us-east-1_20260302T1200Z_abc.json', JSON.stringify({ Records: [insight('Start', '2026-03-02T12:00:00Z', 'ins-start'), insight('End', '2026-03-02T12:05:00Z', 'ins-end')] }));
    const summary = await ingest(store, [path]);
    expect(summary.eventsLoaded).toBe(2);
    const rows = await store.all<{ eventname: string | null; eventsource: string; eventcategory: string; access_key_id: string | null }>(`select eventname, eventsource, eventcategory, access_key_id from events order by eventtime`);
    expect(rows).toEqual([
      { eventname: null, eventsource: 'ssm.amazonaws.com', eventcategory: 'Insight', access_key_id: null },
      { eventname: null, eventsource: 'ssm.amazonaws.com', eventcategory: 'Insight', access_key_id: null },
    ]);
    const catalog = loadCatalog('queries');
    const result = await runDetections(store, catalog, { sensitive: loadSensitiveEvents('queries/sensitive-events.yml') });
    expect(result.failures).toEqual([]);
    expect(result.findings.map((f) => f.detection)).toEqual(['cloudtrail_insight_raised']);
    expect(result.findings[0]).toMatchObject({ eventIds: ['ins-start', 'ins-end'], severity: 'low' });
    expect(result.findings[0]!.summary).toBe('unusual rate of calls to ssm.amazonaws.com UpdateInstanceInformation: 664 a minute against a baseline of 85.42, until 2026-03-02T12:05:00Z');
  });
});
