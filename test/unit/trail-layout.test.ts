import { describe, expect, it } from 'vitest';
import { parseTrailPath, trailPathInScope } from '../../src/ingest/trail-layout.js';

describe('parseTrailPath', () => {
  it('reads account, region and day from a log file path', () => {
    expect(parseTrailPath('/cases/bucket/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1005Z_abc.json.gz')).toEqual({
      account: '111122223333',
      kind: 'log',
      region: 'eu-west-1',
      year: 2026,
      month: 3,
      day: 2,
    });
  });

  it('reads organization trails and digests', () => {
    expect(parseTrailPath('AWSLogs/o-abc123/444455556666/CloudTrail-Digest/us-east-1/2026/03')).toEqual({
      organization: 'o-abc123',
      account: '444455556666',
      kind: 'digest',
      region: 'us-east-1',
      year: 2026,
      month: 3,
    });
  });

  it('gives partial information for folders high in the tree', () => {
    expect(parseTrailPath('x/AWSLogs')).toEqual({});
    expect(parseTrailPath('x/AWSLogs/111122223333')).toEqual({ account: '111122223333' });
  });

  it('returns undefined outside an AWSLogs tree or for foreign folders', () => {
    expect(parseTrailPath('/tmp/logs/file.json')).toBeUndefined();
    expect(parseTrailPath('AWSLogs/not-an-account/CloudTrail')).toBeUndefined();
    expect(parseTrailPath('AWSLogs/111122223333/elasticloadbalancing/us-east-1')).toBeUndefined();
  });
});

describe('trailPathInScope', () => {
  const day = (d: number) => ({ account: '111122223333', kind: 'log' as const, region: 'us-east-1', year: 2026, month: 3, day: d });

  it('keeps everything when the scope is empty or the path is not a trail path', () => {
    expect(trailPathInScope(day(2), {})).toBe(true);
    expect(trailPathInScope(undefined, { regions: ['eu-west-1'] })).toBe(true);
  });

  it('prunes other accounts and regions', () => {
    expect(trailPathInScope(day(2), { accounts: ['444455556666'] })).toBe(false);
    expect(trailPathInScope(day(2), { regions: ['eu-west-1'] })).toBe(false);
    expect(trailPathInScope(day(2), { regions: ['us-east-1'], accounts: ['111122223333'] })).toBe(true);
  });

  it('prunes days before --since', () => {
    const since = new Date('2026-03-03T06:00:00Z');
    expect(trailPathInScope(day(2), { since })).toBe(false);
    expect(trailPathInScope(day(3), { since })).toBe(true);
    expect(trailPathInScope({ year: 2026, month: 2 }, { since })).toBe(false);
    expect(trailPathInScope({ year: 2026, month: 3 }, { since })).toBe(true);
  });

  it('keeps the day after --until for late deliveries, and prunes later days', () => {
    const until = new Date('2026-03-03T06:00:00Z');
    expect(trailPathInScope(day(3), { until })).toBe(true);
    expect(trailPathInScope(day(4), { until })).toBe(true);
    expect(trailPathInScope(day(5), { until })).toBe(false);
    expect(trailPathInScope({ year: 2027 }, { until })).toBe(false);
  });
});
