/** Role sessions stolen from a Lambda function, an ECS task and a user, as CloudTrail logs their minting and use. */
import type { CloudTrailRecord } from '../../src/core/record.js';
import { assumedRoleIdentity, awsServiceIdentity, iamUserIdentity, iamUserSessionIdentity, makeRecord } from '../../synth/records.js';

export const A = '111122223333';
export const LAMBDA_KEY = 'ASIALAMBDASTOLEN0001';
export const ECS_KEY = 'ASIAECSTASKSTOLEN002';
export const USER_KEY = 'ASIAUSERSESSION00003';
export const INSTANCE_KEY = 'ASIAINSTANCEROLE0004';
export const ATTACKER = '203.0.113.66';

export function at(minute: number): string {
  return new Date(Date.parse('2018-11-29T10:00:00Z') + minute * 60_000).toISOString().replace('.000Z', 'Z');
}

/** A service assuming a function's or task's role, as Lambda and ECS log it: no caller key, the service as the address. */
export function serviceAssume(service: string, role: string, session: string, key: string, expiration: string, minute: number): CloudTrailRecord {
  return makeRecord('AssumeRole', {
    eventTime: at(minute),
    userIdentity: awsServiceIdentity(service),
    sourceIPAddress: service,
    userAgent: service,
    requestParameters: { roleArn: `arn:aws:iam::${A}:role/${role}`, roleSessionName: session },
    responseElements: {
      credentials: { accessKeyId: key, expiration },
      assumedRoleUser: { arn: `arn:aws:sts::${A}:assumed-role/${role}/${session}` },
    },
  });
}

export function stolenSessions(): CloudTrailRecord[] {
  const lambdaSession = assumedRoleIdentity({ account: A, roleName: 'fn-role', sessionName: 'level3', accessKeyId: LAMBDA_KEY, creationDate: at(1) });
  const ecsSession = assumedRoleIdentity({ account: A, roleName: 'task-role', sessionName: 'a1b2c3', accessKeyId: ECS_KEY, creationDate: at(2) });
  const alice = iamUserIdentity({ account: A, userName: 'alice', accessKeyId: 'AKIAALICE00000000001' });
  return [
    // The old expiration format, without the comma after the year.
    serviceAssume('lambda.amazonaws.com', 'fn-role', 'level3', LAMBDA_KEY, 'Nov 29, 2018 11:03:12 AM', 1),
    serviceAssume('ecs-tasks.amazonaws.com', 'task-role', 'a1b2c3', ECS_KEY, '2018-11-29T16:02:00Z', 2),
    makeRecord('GetSessionToken', {
      eventTime: at(3),
      userIdentity: alice,
      sourceIPAddress: '198.51.100.4',
      responseElements: { credentials: { accessKeyId: USER_KEY, expiration: 'Nov 30, 2018, 10:03:00 PM' } },
    }),
    makeRecord('ListBuckets', { eventTime: at(30), userIdentity: lambdaSession, sourceIPAddress: ATTACKER }),
    makeRecord('GetCallerIdentity', { eventTime: at(31), userIdentity: ecsSession, sourceIPAddress: ATTACKER }),
    makeRecord('ListUsers', { eventTime: at(32), userIdentity: iamUserSessionIdentity({ account: A, userName: 'alice', accessKeyId: USER_KEY, creationDate: at(3), mfaAuthenticated: false }), sourceIPAddress: ATTACKER }),
    makeRecord('ListRoles', { eventTime: at(33), userIdentity: alice, sourceIPAddress: ATTACKER }),
    serviceAssume('ec2.amazonaws.com', 'web-profile', 'i-0abc1234def567890', INSTANCE_KEY, 'Nov 29, 2018, 4:00:00 PM', 4),
    makeRecord('ListBuckets', { eventTime: at(34), userIdentity: assumedRoleIdentity({ account: A, roleName: 'web-profile', sessionName: 'i-0abc1234def567890', accessKeyId: INSTANCE_KEY, creationDate: at(4) }), sourceIPAddress: '198.51.100.99' }),
    makeRecord('ListBuckets', { eventTime: at(600), userIdentity: iamUserIdentity({ account: A, userName: 'bob' }) }),
  ];
}

