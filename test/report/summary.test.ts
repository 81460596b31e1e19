import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/remediate/plan.js';
import { buildTimeline } from '../../src/report/timeline.js';
import { evidenceEvent, findingOf } from '../helpers/evidence.js';

describe('the ticket summary', () => {
  it('lists each finding under one heading only', () => {
    const del = evidenceEvent('DeleteTrail', { eventId: 'e-del', eventSource: 'cloudtrail.amazonaws.com', requestParameters: { name: 'audit' } });
    const run = evidenceEvent('RunInstances', { eventId: 'e-run', eventSource: 'ec2.amazonaws.com' });
    const findings = [
      findingOf(del, { detection: 'cloudtrail_deleted', summary: 'trail audit deleted', tactics: ['TA0005', 'TA0040'] }),
      findingOf(run, { detection: 'ec2_gpu_launch', summary: 'GPU instances launched', tactics: ['TA0040'] }),
    ];
    const events = [del, run];
    const report = buildTimeline({
      findings,
      events,
      coverage: { from: null, to: null, accounts: [], regions: [], events: 2, sources: [], gaps: [] },
      investigations: [],
      plan: buildPlan({ findings, events, containedAt: '2026-03-06T12:00:00Z' }),
      scope: { mode: 'store', keys: [], ips: [], principals: [], sessions: [], since: null, until: null, minSeverity: 'low' } as never,
      generatedAt: '2026-03-06T12:00:00Z',
      toolVersion: 'test',
    });
    const impact = report.summary.find((l) => l.startsWith('Impact:'))!;
    const evasion = report.summary.find((l) => l.startsWith('Defense evasion'))!;
    expect(evasion).toContain('trail audit deleted');
    expect(impact).not.toContain('trail audit deleted');
    expect(impact).toContain('GPU instances launched');
  });
});
