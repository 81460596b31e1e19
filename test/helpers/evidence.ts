import type { EvidenceEvent, Finding } from '../../src/report/evidence.js';

/** An event as the reports and the plan read it: an IAM user's key from one address, unless `over` says otherwise. */
export function evidenceEvent(eventName: string, over: Partial<EvidenceEvent> = {}): EvidenceEvent {
  return {
    eventId: `${eventName}-${over.eventTime ?? '1'}`,
    eventTime: '2026-03-04T01:00:00Z',
    eventName,
    eventSource: 'iam.amazonaws.com',
    accessKeyId: 'AKIAEXAMPLEEXPOSED01',
    principalArn: 'arn:aws:iam::111122223333:user/deploy',
    identityType: 'IAMUser',
    userName: 'deploy',
    sessionIssuerArn: null,
    sourceIp: '203.0.113.9',
    userAgent: 'x',
    region: 'us-east-1',
    account: '111122223333',
    errorCode: null,
    errorMessage: null,
    requestParameters: null,
    responseElements: null,
    provenance: null,
    ...over,
  };
}

/** A finding on one event, its identity fields taken from the event. */
export function findingOf(e: EvidenceEvent, over: Partial<Finding> = {}): Finding {
  return {
    detection: 'test_detection',
    title: 't',
    severity: 'high',
    outcome: 'success',
    tactics: [],
    techniques: [],
    eventIds: [e.eventId],
    eventTime: e.eventTime,
    eventName: e.eventName,
    actor: e.principalArn,
    accessKeyId: e.accessKeyId,
    sourceIp: e.sourceIp,
    account: e.account,
    region: e.region,
    resource: null,
    summary: 's',
    ...over,
  };
}

/** The metadata of the iam_user_created detection, for findings about created users. */
export const CREATED_USER = {
  detection: 'iam_user_created',
  title: 'IAM user created',
  severity: 'medium',
  tactics: ['TA0003'],
  techniques: ['T1136.003'],
} as const satisfies Partial<Finding>;
