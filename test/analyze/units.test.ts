import { describe, expect, it } from 'vitest';
import { blastRadius, instanceShape, launchedInstances } from '../../src/analyze/blast.js';
import { outsidePrincipals, parseAwsDate } from '../../src/analyze/derive.js';
import { textPrefix } from '../../src/analyze/duckdb-source.js';
import type { EventRow } from '../../src/analyze/source.js';
import { markdownSafe } from '../../src/report/text-safety.js';

function row(partial: Partial<EventRow>): EventRow {
  return {
    eventId: 'e1',
    eventTime: '2026-05-01T10:00:00Z',
    eventName: 'ListBuckets',
    eventSource: 's3.amazonaws.com',
    accessKeyId: null,
    principalArn: null,
    identityType: null,
    userName: null,
    sessionIssuerArn: null,
    principalAccount: null,
    sourceIp: null,
    userAgent: null,
    region: 'us-east-1',
    account: '111122223333',
    errorCode: null,
    errorMessage: null,
    requestParameters: null,
    responseElements: null,
    additionalEventData: null,
    sharedEventId: null,
    ...partial,
  };
}

describe('parseAwsDate', () => {
  it('reads the dates STS and IAM write, ISO-8601 and epoch seconds', () => {
    expect(parseAwsDate('Mar 4, 2026, 2:05:07 AM')).toBe('2026-03-04T02:05:07Z');
    expect(parseAwsDate('Mar 4, 2026, 12:05:07 AM')).toBe('2026-03-04T00:05:07Z');
    expect(parseAwsDate('Mar 4, 2026, 12:05:07 PM')).toBe('2026-03-04T12:05:07Z');
    expect(parseAwsDate('Dec 31, 2026, 11:59:59 PM')).toBe('2026-12-31T23:59:59Z');
    expect(parseAwsDate('2026-03-04T02:05:07Z')).toBe('2026-03-04T02:05:07Z');
    expect(parseAwsDate('1772589907')).toBe('2026-03-04T02:05:07Z');
    expect(parseAwsDate('soon')).toBeNull();
    expect(parseAwsDate(null)).toBeNull();
  });
});

describe('outsidePrincipals', () => {
  const doc = (principal: unknown, effect = 'Allow') => JSON.stringify({ Statement: [{ Effect: effect, Principal: principal, Action: 'sts:AssumeRole' }] });
  it('finds other accounts, everyone and identity providers, but not the account itself or services', () => {
    expect(outsidePrincipals(doc({ AWS: 'arn:aws:iam::999988887777:root' }), '111122223333')).toEqual(['arn:aws:iam::999988887777:root']);
    expect(outsidePrincipals(doc({ AWS: ['999988887777', 'arn:aws:iam::111122223333:user/a'] }), '111122223333')).toEqual(['999988887777']);
    expect(outsidePrincipals(doc('*'), '111122223333')).toEqual(['*']);
    expect(outsidePrincipals(doc({ Federated: 'cognito-identity.amazonaws.com' }), '111122223333')).toEqual([]);
    expect(outsidePrincipals(doc({ Federated: 'arn:aws:iam::111122223333:saml-provider/okta' }), '111122223333')).toEqual([]);
    expect(outsidePrincipals(doc({ Service: 'ec2.amazonaws.com' }), '111122223333')).toEqual([]);
    expect(outsidePrincipals(doc({ AWS: '*' }, 'Deny'), '111122223333')).toEqual([]);
  });
  it('reads URL-encoded documents as IAM logs them, and shrugs at garbage', () => {
    expect(outsidePrincipals(encodeURIComponent(doc({ AWS: '444455556666' })), '111122223333')).toEqual(['444455556666']);
    expect(outsidePrincipals('%E0%A4%A', '111122223333')).toEqual([]);
    expect(outsidePrincipals('{not json', '111122223333')).toEqual([]);
  });
});

describe('blast radius', () => {
  it('knows the mining instance shapes and guesses CPU families by size', () => {
    expect(instanceShape('p3.16xlarge')).toEqual({ vcpus: 64, gpus: 8 });
    expect(instanceShape('c5.24xlarge')).toEqual({ vcpus: 96, gpus: 0 });
    expect(instanceShape('g9.xlarge')).toEqual({ vcpus: 4, gpus: null });
    expect(instanceShape('weird')).toEqual({ vcpus: null, gpus: 0 });
  });

  it('counts launched instances from the response, or the request when the response is missing', () => {
    const response = JSON.stringify({ instancesSet: { items: [{ instanceId: 'i-1', instanceType: 'g5.48xlarge' }, { instanceId: 'i-2', instanceType: 'g5.48xlarge' }] } });
    expect(launchedInstances(row({ eventName: 'RunInstances', responseElements: response }))).toEqual([
      { id: 'i-1', type: 'g5.48xlarge' },
      { id: 'i-2', type: 'g5.48xlarge' },
    ]);
    const request = JSON.stringify({ instanceType: 'p4d.24xlarge', instancesSet: { items: [{ imageId: 'ami-1', minCount: 3, maxCount: 3 }] } });
    expect(launchedInstances(row({ eventName: 'RunInstances', requestParameters: request }))).toHaveLength(3);
  });

  it('groups changes, skips reads and failures, and collapses object calls per bucket', () => {
    const put = (i: number) => row({ eventId: `p${i}`, eventName: 'PutObject', requestParameters: JSON.stringify({ bucketName: 'loot', key: `k${i}` }) });
    const b = blastRadius([
      put(1),
      put(2),
      put(3),
      row({ eventId: 'd', eventName: 'DescribeInstances', eventSource: 'ec2.amazonaws.com' }),
      row({ eventId: 'f', eventName: 'CreateUser', eventSource: 'iam.amazonaws.com', errorCode: 'AccessDenied', requestParameters: '{"userName":"x"}' }),
      row({ eventId: 's', eventName: 'ModifySnapshotAttribute', eventSource: 'ec2.amazonaws.com', requestParameters: JSON.stringify({ snapshotId: 'snap-1', createVolumePermission: { add: { items: [{ userId: '999988887777' }] } } }) }),
      row({ eventId: 'q', eventName: 'RequestServiceQuotaIncrease', eventSource: 'servicequotas.amazonaws.com', requestParameters: JSON.stringify({ serviceCode: 'ec2', quotaCode: 'L-DB2E81BA', desiredValue: 256 }) }),
      row({ eventId: 'r', eventName: 'EnableRegion', eventSource: 'account.amazonaws.com', requestParameters: JSON.stringify({ regionName: 'me-south-1' }) }),
      row({ eventId: 'o', eventName: 'CreateWidget', eventSource: 'widgets.amazonaws.com' }),
    ]);
    expect(b.data.map((c) => c.kind).sort()).toEqual(['ec2:snapshot', 's3:objects-written']);
    expect(b.data.find((c) => c.kind === 's3:objects-written')).toMatchObject({ id: 'loot', eventId: 'p1', detail: '3 PutObject calls, the first shown' });
    expect(b.data.find((c) => c.kind === 'ec2:snapshot')?.detail).toBe('shared with 999988887777');
    expect(b.iam).toEqual([]);
    expect(b.cost.quotaRequests.map((c) => c.detail)).toEqual(['L-DB2E81BA to 256']);
    expect(b.cost.regionsEnabled.map((c) => c.id)).toEqual(['me-south-1']);
    expect(b.other.map((c) => c.kind)).toEqual(['widgets:CreateWidget']);
  });

  it('names what each change touched: databases by identifier, any service by its naming field, image pulls as data read', () => {
    const b = blastRadius([
      row({ eventId: 'db', eventName: 'DeleteDBInstance', eventSource: 'rds.amazonaws.com', requestParameters: JSON.stringify({ dBInstanceIdentifier: 'orders-prod', skipFinalSnapshot: true }) }),
      row({ eventId: 'w', eventName: 'CreateWidget', eventSource: 'widgets.amazonaws.com', requestParameters: JSON.stringify({ colour: 'red', widgetName: 'w-1' }) }),
      row({ eventId: 'i1', eventName: 'BatchGetImage', eventSource: 'ecr.amazonaws.com', requestParameters: JSON.stringify({ repositoryName: 'payments-api', imageIds: [{ imageTag: 'latest' }] }) }),
      row({ eventId: 'i2', eventName: 'GetDownloadUrlForLayer', eventSource: 'ecr.amazonaws.com', requestParameters: JSON.stringify({ repositoryName: 'payments-api', layerDigest: 'sha256:ab' }) }),
      row({ eventId: 'u', eventName: 'ModifySnapshotAttribute', eventSource: 'ec2.amazonaws.com', requestParameters: JSON.stringify({ snapshotId: 'snap-2', createVolumePermission: { remove: { items: [{ userId: '999988887777' }] } } }) }),
    ]);
    expect(b.data.find((c) => c.action === 'DeleteDBInstance')).toMatchObject({ kind: 'rds:instance', id: 'orders-prod' });
    expect(b.other).toMatchObject([{ kind: 'widgets:CreateWidget', id: 'w-1' }]);
    expect(b.data.filter((c) => c.kind === 'ecr:image-pulled').map((c) => [c.id, c.detail])).toEqual([
      ['payments-api', '1 BatchGetImage call, the first shown'],
      ['payments-api', '1 GetDownloadUrlForLayer call, the first shown'],
    ]);
    expect(b.data.find((c) => c.id === 'snap-2')?.detail).toBe('sharing with 999988887777 removed');
  });
});

describe('markdownSafe', () => {
  it('neutralises HTML, Markdown, table pipes, line breaks and links', () => {
    // Only what Markdown interprets is escaped: the tag is broken, `=` and `(` stay as they are.
    expect(markdownSafe('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(markdownSafe('a|b\nc')).toBe('a\\|b c');
    // The brackets are escaped (no link) and the scheme broken (no autolink).
    expect(markdownSafe('[x](http://evil.example)')).toBe('\\[x\\](http\\://evil.example)');
    expect(markdownSafe('**bold** `code`')).toBe('\\*\\*bold\\*\\* \\`code\\`');
    // ESC shows as \x1b; a backslash before a letter is not a Markdown escape, so it stays single.
    expect(markdownSafe('\u001b[31mred')).toBe('\\x1b\\[31mred');
  });
});

describe('textPrefix', () => {
  it('gives the text every address of a block starts with', () => {
    expect(textPrefix('203.0.113.0', 4, 24)).toBe('203.0.113.');
    expect(textPrefix('203.0.113.0', 4, 20)).toBe('203.0.');
    expect(textPrefix('10.0.0.0', 4, 8)).toBe('10.');
    expect(textPrefix('203.0.113.7', 4, 32)).toBe('203.0.113.7');
    expect(textPrefix('0.0.0.0', 4, 0)).toBeNull();
    expect(textPrefix('2001:DB8::', 6, 32)).toBe('2001:');
    expect(textPrefix('0db8::', 6, 16)).toBe('db8:');
    expect(textPrefix('2001:db8::', 6, 8)).toBeNull();
  });
});
