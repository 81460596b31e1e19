import { DEMO_LEAKED_KEY_ID } from '../src/core/demo.js';
import type { CloudTrailRecord, UserIdentity } from '../src/core/record.js';
import { isoSeconds } from '../src/core/time.js';
import { Random } from './random.js';
import {
  ADMINISTRATOR_ACCESS_ARN,
  BROWSER_USER_AGENT,
  DEFAULT_TRAIL_NAME,
  HOME_REGION,
  accessDenied,
  assumedRoleIdentity,
  awsServiceIdentity,
  iamUserIdentity,
  iamUserSessionIdentity,
  makeRecord,
} from './records.js';
import type { EventName, RecordOverrides } from './records.js';

/** The account the demo happens in. */
export const DEMO_ACCOUNT = '111122223333';

/** The CI user's long-term key, leaked and then used by the attacker (`trailhound demo` follows it). */
export const LEAKED_KEY_ID = DEMO_LEAKED_KEY_ID;

/** The first instant of the demo (a Monday); the demo spans four days from here. */
export const DEMO_START = '2026-03-02T00:00:00Z';

/** A user agent carrying markup, to prove that every renderer escapes record text. */
export const SCRIPT_USER_AGENT = '<script>alert(1)</script>';

/** A user agent shaped as a spreadsheet formula, to prove that CSV output defuses it. */
export const FORMULA_USER_AGENT = "=cmd|' /C calc'!A0";

/** An EC2 `Name` tag value the attacker chose, carrying markup. */
export const HOSTILE_TAG_VALUE = '<img src=x onerror=alert(document.domain)>';

const ATTACKER_USER_AGENT =
  'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.6.9-kali1-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.51';
const TRAIL_ARN = `arn:aws:cloudtrail:${HOME_REGION}:${DEMO_ACCOUNT}:trail/${DEFAULT_TRAIL_NAME}`;

/**
 * What the demo scenario contains, for tests and documentation to assert against. Every value
 * here is checked against `demoScenario()` by the unit tests.
 */
export const DEMO_FACTS = {
  account: DEMO_ACCOUNT,
  trailName: DEFAULT_TRAIL_NAME,
  trailArn: TRAIL_ARN,
  start: DEMO_START,
  end: '2026-03-06T00:00:00Z',
  leakedUser: 'ci-deploy',
  leakedKeyId: LEAKED_KEY_ID,
  attackerIp: '203.0.113.77',
  attackerIps: ['203.0.113.77', '203.0.113.142'],
  attackerUserAgent: ATTACKER_USER_AGENT,
  hostileUserAgents: [SCRIPT_USER_AGENT, FORMULA_USER_AGENT],
  hostileTagValue: HOSTILE_TAG_VALUE,
  firstAttackerEventTime: '2026-03-04T01:47:12Z',
  mintedKeyId: 'ASIAQ3EGRV7XMINTED42',
  createdUser: 'backup-admin',
  createdKeyId: 'AKIAQ3EGRV7XBACKUP77',
  attachedPolicyArn: ADMINISTRATOR_ACCESS_ARN,
  regionsLaunched: ['ap-southeast-1', 'sa-east-1', 'us-east-1'],
  regionsDiscovered: ['ap-southeast-1', 'eu-west-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-2'],
  instanceTypesLaunched: ['c5.24xlarge', 'g4dn.12xlarge', 'p3.8xlarge'],
  instancesLaunched: 6,
  failedLaunch: { region: 'sa-east-1', instanceType: 'p3.16xlarge', errorCode: 'Client.VcpuLimitExceeded' },
  stopLoggingTime: '2026-03-04T02:22:12Z',
  startLoggingTime: '2026-03-04T08:41:37Z',
  createdKeyFirstUseTime: '2026-03-05T03:10:05Z',
  counts: {
    total: 1165,
    management: 451,
    data: 714,
    errors: 3,
    byLeakedKey: 217,
    byLeakedKeyFromAttackerIps: 23,
    byMintedKey: 5,
    byCreatedUser: 8,
    fromAttackerIps: 36,
  },
} as const;

const OFFICE_IPS = ['198.51.100.10', '198.51.100.11'] as const;
const BOB_HOME_IP = '192.0.2.55';
const CI_IPS = ['192.0.2.80', '192.0.2.81'] as const;
const LAMBDA_EGRESS_IP = '198.51.100.230';
const WORKLOAD_REGION = 'eu-west-1';
const APP_BUCKET = 'example-app-assets';
const ARTIFACT_BUCKET = 'example-ci-artifacts';
const EXPORT_BUCKET = 'example-customer-exports';
const BUCKET_REGION: Record<string, string> = {
  [APP_BUCKET]: WORKLOAD_REGION,
  [ARTIFACT_BUCKET]: HOME_REGION,
  [EXPORT_BUCKET]: WORKLOAD_REGION,
};
const CI_USER_AGENT =
  'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#s3.cp';
const BOB_USER_AGENT =
  'aws-cli/2.15.17 md/awscrt#0.19.19 ua/2.0 os/macos#23.3.0 md/arch#arm64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off';
const JAVA_SDK_USER_AGENT =
  'aws-sdk-java/2.25.11 Linux/6.1.79-99.164.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy';
const LAMBDA_USER_AGENT = 'aws-sdk-js/3.525.0 ua/2.0 os/linux#5.10.209-219.826.amzn2.x86_64 lang/js md/nodejs#20.11.1 api/s3#3.525.0 exec-env/AWS_Lambda_nodejs20.x';

interface Draft {
  readonly eventName: EventName;
  readonly time: Date;
  readonly overrides: RecordOverrides;
  readonly attacker: boolean;
}

class Timeline {
  readonly drafts: Draft[] = [];

  add(eventName: EventName, time: Date, overrides: RecordOverrides, attacker = false): void {
    this.drafts.push({ eventName, time, overrides: { ...overrides, eventTime: isoSeconds(time) }, attacker });
  }
}

function at(day: number, hour: number, minute: number, second = 0): Date {
  return new Date(Date.parse(DEMO_START) + ((day * 24 + hour) * 60 + minute) * 60_000 + second * 1000);
}

function plus(time: Date, seconds: number): Date {
  return new Date(time.getTime() + seconds * 1000);
}

function actor(identity: UserIdentity, sourceIPAddress: string, userAgent: string): RecordOverrides {
  return { userIdentity: identity, sourceIPAddress, userAgent, recipientAccountId: DEMO_ACCOUNT };
}

function alice(tl: Timeline, rng: Random, day: number): void {
  const login = at(day, 8, rng.int(2, 28), rng.int(0, 59));
  const ip = OFFICE_IPS[0];
  const user = iamUserIdentity({ account: DEMO_ACCOUNT, userName: 'alice' });
  tl.add('ConsoleLogin', login, { ...actor(user, ip, BROWSER_USER_AGENT), additionalEventData: { MFAUsed: 'Yes' } });
  const session = {
    ...actor(
      iamUserSessionIdentity({
        account: DEMO_ACCOUNT,
        userName: 'alice',
        accessKeyId: rng.accessKeyId('ASIA'),
        creationDate: isoSeconds(login),
        mfaAuthenticated: true,
      }),
      ip,
      'AWS Internal',
    ),
    sessionCredentialFromConsole: 'true',
  };
  for (const burstStart of [plus(login, rng.int(30, 120)), at(day, 14, rng.int(0, 40), rng.int(0, 59))]) {
    let t = burstStart;
    const calls = rng.int(8, 15);
    for (let i = 0; i < calls; i++) {
      t = plus(t, rng.int(2, 40));
      consoleCall(tl, rng, t, session);
    }
  }
}

function consoleCall(tl: Timeline, rng: Random, t: Date, session: RecordOverrides): void {
  const name = rng.weighted<EventName>([
    ['DescribeInstances', 5],
    ['DescribeSecurityGroups', 2],
    ['DescribeVolumes', 2],
    ['ListFunctions20150331', 2],
    ['ListUsers', 2],
    ['ListRoles', 1],
    ['ListAttachedUserPolicies', 1],
    ['ListBuckets', 2],
    ['GetBucketAcl', 1],
  ]);
  if (name === 'ListAttachedUserPolicies') {
    tl.add(name, t, { ...session, requestParameters: { userName: rng.pick(['bob', 'ci-deploy']) } });
  } else if (name === 'GetBucketAcl') {
    const bucket = rng.pick([APP_BUCKET, ARTIFACT_BUCKET, EXPORT_BUCKET]);
    tl.add(name, t, { ...session, awsRegion: BUCKET_REGION[bucket], requestParameters: { bucketName: bucket } });
  } else {
    tl.add(name, t, { ...session, awsRegion: WORKLOAD_REGION });
  }
}

function bob(tl: Timeline, rng: Random, day: number): void {
  const identity = iamUserIdentity({ account: DEMO_ACCOUNT, userName: 'bob' });
  const sessions = rng.int(3, 5);
  for (let s = 0; s < sessions; s++) {
    const fromHome = (day === 0 || day === 3) && s === 0;
    const who = actor(identity, fromHome ? BOB_HOME_IP : OFFICE_IPS[1], BOB_USER_AGENT);
    let t = at(day, fromHome ? 7 : 9 + s * 2, rng.int(0, 59), rng.int(0, 59));
    const calls = rng.int(5, 10);
    for (let i = 0; i < calls; i++) {
      t = plus(t, rng.int(3, 90));
      const name = rng.weighted<EventName>([
        ['GetCallerIdentity', 1],
        ['DescribeInstances', 3],
        ['GetObject', 3],
        ['PutObject', 2],
        ['ListBuckets', 1],
        ['DescribeVolumes', 1],
        ['ListFunctions20150331', 1],
        ['DescribeRegions', 0.3],
      ]);
      if (name === 'GetObject' || name === 'PutObject') {
        const key = name === 'GetObject' ? `static/img/${rng.hex(8)}.png` : `static/build/${rng.hex(8)}.js`;
        tl.add(name, t, { ...who, awsRegion: WORKLOAD_REGION, requestParameters: { bucketName: APP_BUCKET, key } });
      } else if (name === 'GetCallerIdentity' || name === 'ListBuckets') {
        tl.add(name, t, who);
      } else {
        tl.add(name, t, { ...who, awsRegion: WORKLOAD_REGION });
      }
    }
  }
}

function ciDeploy(tl: Timeline, rng: Random, day: number): void {
  const identity = iamUserIdentity({ account: DEMO_ACCOUNT, userName: 'ci-deploy', accessKeyId: LEAKED_KEY_ID });
  for (let run = 0; run < 10; run++) {
    const who = actor(identity, rng.pick(CI_IPS), CI_USER_AGENT);
    let t = at(day, 7, run * 75 + rng.int(0, 20), rng.int(0, 59));
    const build = `${day + 1}${String(run).padStart(2, '0')}${rng.int(10, 99)}`;
    tl.add('GetCallerIdentity', t, who);
    for (const artifact of ['app.tar.gz', 'manifest.json']) {
      t = plus(t, rng.int(2, 20));
      tl.add('PutObject', t, {
        ...who,
        awsRegion: HOME_REGION,
        requestParameters: { bucketName: ARTIFACT_BUCKET, key: `builds/${build}/${artifact}` },
      });
    }
    t = plus(t, rng.int(5, 30));
    tl.add('DescribeInstances', t, { ...who, awsRegion: WORKLOAD_REGION });
    t = plus(t, rng.int(1, 5));
    tl.add('DescribeSecurityGroups', t, { ...who, awsRegion: WORKLOAD_REGION });
    if (run === 4) {
      t = plus(t, rng.int(10, 40));
      tl.add('RunInstances', t, {
        ...who,
        awsRegion: WORKLOAD_REGION,
        requestParameters: {
          instanceType: 't3.medium',
          instancesSet: { items: [{ imageId: 'ami-0c1f5a9e3b7d24e61', minCount: 1, maxCount: 1, keyName: 'ci-runner' }] },
        },
      });
    }
  }
}

function ec2Fleet(tl: Timeline, rng: Random, instances: readonly string[]): void {
  const end = Date.parse(DEMO_FACTS.end);
  instances.forEach((instanceId, n) => {
    const privateIp = `10.20.${n + 1}.${rng.int(10, 250)}`;
    const vpce = `vpce-${rng.hex(17)}`;
    let refresh = at(0, n * 2, rng.int(0, 59), rng.int(0, 59));
    while (refresh.getTime() < end) {
      const keyId = rng.accessKeyId('ASIA');
      tl.add('AssumeRole', refresh, {
        userIdentity: awsServiceIdentity('ec2.amazonaws.com'),
        recipientAccountId: DEMO_ACCOUNT,
        awsRegion: WORKLOAD_REGION,
        requestParameters: { roleArn: `arn:aws:iam::${DEMO_ACCOUNT}:role/app-server-role`, roleSessionName: instanceId },
        responseElements: { credentials: { accessKeyId: keyId } },
      });
      const identity = {
        ...assumedRoleIdentity({
          account: DEMO_ACCOUNT,
          roleName: 'app-server-role',
          sessionName: instanceId,
          accessKeyId: keyId,
          creationDate: isoSeconds(refresh),
        }),
      };
      const withDelivery: UserIdentity = {
        ...identity,
        sessionContext: { ...identity.sessionContext, ec2RoleDelivery: '2.0' },
      };
      const secretArn = `arn:aws:secretsmanager:${WORKLOAD_REGION}:${DEMO_ACCOUNT}:secret:app/db-credentials-Xk3p9Q`;
      tl.add('Decrypt', plus(refresh, rng.int(20, 90)), {
        userIdentity: { ...withDelivery, invokedBy: 'secretsmanager.amazonaws.com' },
        recipientAccountId: DEMO_ACCOUNT,
        awsRegion: WORKLOAD_REGION,
        requestParameters: { encryptionContext: { SecretARN: secretArn, SecretVersionId: 'b2f4c6d8-0a1c-4e3f-9a7b-5d6e8f0a1b2c' } },
      });
      const who: RecordOverrides = {
        ...actor(withDelivery, privateIp, JAVA_SDK_USER_AGENT),
        vpcEndpointId: vpce,
        awsRegion: WORKLOAD_REGION,
      };
      const until = Math.min(refresh.getTime() + 6 * 3600_000, end);
      let t = plus(refresh, rng.int(60, 600));
      let puts = 0;
      while (t.getTime() < until) {
        tl.add('GetObject', t, { ...who, requestParameters: { bucketName: APP_BUCKET, key: 'config/app.json' } });
        if (puts++ % 2 === 1) {
          tl.add('PutObject', plus(t, rng.int(5, 50)), {
            ...who,
            requestParameters: { bucketName: APP_BUCKET, key: `logs/${instanceId}/${isoSeconds(t).slice(0, 13)}.log.gz` },
          });
        }
        t = plus(t, rng.int(2400, 4800));
      }
      refresh = new Date(until);
    }
  });
}

function thumbnailer(tl: Timeline, rng: Random): void {
  const end = Date.parse(DEMO_FACTS.end);
  const roleArn = `arn:aws:iam::${DEMO_ACCOUNT}:role/thumbnailer-lambda-role`;
  let coldStart = at(0, 0, rng.int(5, 50), rng.int(0, 59));
  while (coldStart.getTime() < end) {
    const keyId = rng.accessKeyId('ASIA');
    tl.add('AssumeRole', coldStart, {
      userIdentity: awsServiceIdentity('lambda.amazonaws.com'),
      recipientAccountId: DEMO_ACCOUNT,
      awsRegion: WORKLOAD_REGION,
      requestParameters: { roleArn, roleSessionName: 'thumbnailer' },
      responseElements: { credentials: { accessKeyId: keyId } },
    });
    const identity = assumedRoleIdentity({
      account: DEMO_ACCOUNT,
      roleName: 'thumbnailer-lambda-role',
      sessionName: 'thumbnailer',
      accessKeyId: keyId,
      creationDate: isoSeconds(coldStart),
    });
    const who = { ...actor(identity, LAMBDA_EGRESS_IP, LAMBDA_USER_AGENT), awsRegion: WORKLOAD_REGION };
    tl.add('Decrypt', plus(coldStart, 1), {
      ...who,
      userAgent: 'aws-sdk-js/3.525.0 ua/2.0 os/linux lang/js md/nodejs#20.11.1 api/kms#3.525.0 exec-env/AWS_Lambda_nodejs20.x',
      requestParameters: { encryptionContext: { LambdaFunctionName: 'thumbnailer' } },
    });
    const hour = coldStart.getUTCHours();
    const busy = hour >= 7 && hour < 19;
    let t = plus(coldStart, 2);
    const images = busy ? rng.int(3, 8) : rng.int(0, 1);
    for (let i = 0; i < images; i++) {
      const name = `${rng.hex(12)}.jpg`;
      tl.add('GetObject', t, { ...who, requestParameters: { bucketName: APP_BUCKET, key: `uploads/${name}` } });
      tl.add('PutObject', plus(t, 1), { ...who, requestParameters: { bucketName: APP_BUCKET, key: `thumbnails/${name}` } });
      t = plus(t, rng.int(30, 600));
    }
    coldStart = plus(coldStart, rng.int(5400, 9000));
  }
}

function compromise(tl: Timeline): void {
  const leaked = iamUserIdentity({ account: DEMO_ACCOUNT, userName: 'ci-deploy', accessKeyId: LEAKED_KEY_ID });
  const [ipA, ipB] = DEMO_FACTS.attackerIps;
  const t0 = new Date(DEMO_FACTS.firstAttackerEventTime);
  const key = actor(leaked, ipA, ATTACKER_USER_AGENT);
  const add = (name: EventName, offset: number, overrides: RecordOverrides): void =>
    tl.add(name, plus(t0, offset), overrides, true);

  add('GetCallerIdentity', 0, key);
  add('ListAttachedUserPolicies', 21, { ...key, requestParameters: { userName: 'ci-deploy' } });
  add('ListUsers', 35, key);
  add('ListRoles', 41, { ...key, ...accessDenied('ListRoles', leaked, `arn:aws:iam::${DEMO_ACCOUNT}:role/`) });
  add('ListBuckets', 55, { ...key, userAgent: SCRIPT_USER_AGENT });
  [APP_BUCKET, ARTIFACT_BUCKET, EXPORT_BUCKET].forEach((bucket, i) => {
    add('GetBucketAcl', 63 + i * 6, { ...key, awsRegion: BUCKET_REGION[bucket], requestParameters: { bucketName: bucket } });
  });
  add('ListFunctions20150331', 95, {
    ...key,
    ...accessDenied('ListFunctions20150331', leaked, `arn:aws:lambda:${HOME_REGION}:${DEMO_ACCOUNT}:function:*`),
  });
  add('DescribeRegions', 110, { ...key, userAgent: SCRIPT_USER_AGENT });
  ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'sa-east-1'].forEach((region, i) => {
    add('DescribeInstances', 120 + i * 3, { ...key, awsRegion: region });
  });
  add('GetSessionToken', 420, {
    ...key,
    requestParameters: { durationSeconds: 129600 },
    responseElements: { credentials: { accessKeyId: DEMO_FACTS.mintedKeyId } },
  });
  const minted = actor(
    iamUserSessionIdentity({
      account: DEMO_ACCOUNT,
      userName: 'ci-deploy',
      accessKeyId: DEMO_FACTS.mintedKeyId,
      creationDate: isoSeconds(plus(t0, 420)),
      mfaAuthenticated: false,
    }),
    ipB,
    ATTACKER_USER_AGENT,
  );
  add('GetCallerIdentity', 470, { ...minted, userAgent: FORMULA_USER_AGENT });

  const user = DEMO_FACTS.createdUser;
  add('CreateUser', 1080, { ...key, requestParameters: { userName: user } });
  add('AttachUserPolicy', 1105, { ...key, requestParameters: { userName: user, policyArn: ADMINISTRATOR_ACCESS_ARN } });
  add('CreateAccessKey', 1130, {
    ...key,
    requestParameters: { userName: user },
    responseElements: { accessKey: { accessKeyId: DEMO_FACTS.createdKeyId } },
  });
  add('CreateLoginProfile', 1160, { ...key, requestParameters: { userName: user } });

  const launch = (offset: number, who: RecordOverrides, region: string, instanceType: string, count: number, extra: RecordOverrides = {}): void =>
    add('RunInstances', offset, {
      ...who,
      awsRegion: region,
      requestParameters: {
        instanceType,
        instancesSet: { items: [{ imageId: 'ami-09a3e7c1d5f2b8046', minCount: count, maxCount: count }] },
        tagSpecificationSet: {
          items: [{ resourceType: 'instance', tags: [{ key: 'Name', value: HOSTILE_TAG_VALUE }] }],
        },
      },
      ...extra,
    });
  launch(1500, key, 'us-east-1', 'p3.8xlarge', 2);
  add('DescribeInstances', 1620, { ...minted, awsRegion: 'ap-southeast-1' });
  launch(1650, minted, 'ap-southeast-1', 'g4dn.12xlarge', 3);
  launch(1740, minted, 'sa-east-1', 'p3.16xlarge', 2, {
    errorCode: DEMO_FACTS.failedLaunch.errorCode,
    errorMessage:
      'You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.',
  });
  launch(1790, minted, 'sa-east-1', 'c5.24xlarge', 1);
  add('StopLogging', 2100, { ...key, requestParameters: { name: TRAIL_ARN } });

  const created = iamUserIdentity({ account: DEMO_ACCOUNT, userName: user, accessKeyId: DEMO_FACTS.createdKeyId });
  const back = actor(created, ipB, ATTACKER_USER_AGENT);
  const t1 = new Date(DEMO_FACTS.createdKeyFirstUseTime);
  tl.add('GetCallerIdentity', t1, back, true);
  tl.add('ListBuckets', plus(t1, 14), back, true);
  ['customers-2026-01.csv', 'customers-2026-02.csv', 'invoices-2026-02.csv', 'payroll-2026-02.xlsx'].forEach((file, i) => {
    tl.add('GetObject', plus(t1, 40 + i * 9), {
      ...back,
      awsRegion: WORKLOAD_REGION,
      requestParameters: { bucketName: EXPORT_BUCKET, key: `exports/${file}` },
    }, true);
  });
  const login = plus(t1, 15 * 60);
  tl.add('ConsoleLogin', login, {
    ...actor(iamUserIdentity({ account: DEMO_ACCOUNT, userName: user }), ipA, BROWSER_USER_AGENT),
    additionalEventData: { MFAUsed: 'No' },
  }, true);
  tl.add('DescribeInstances', plus(login, 48), {
    ...actor(
      iamUserSessionIdentity({
        account: DEMO_ACCOUNT,
        userName: user,
        accessKeyId: 'ASIAQ3EGRV7XCONSOLE6',
        creationDate: isoSeconds(login),
        mfaAuthenticated: false,
      }),
      ipA,
      'AWS Internal',
    ),
    sessionCredentialFromConsole: 'true',
    awsRegion: 'ap-southeast-1',
  }, true);
}

function restartLogging(tl: Timeline, rng: Random): void {
  const started = new Date(DEMO_FACTS.startLoggingTime);
  const login = plus(started, -rng.int(400, 700));
  tl.add('StartLogging', started, {
    ...actor(
      iamUserSessionIdentity({
        account: DEMO_ACCOUNT,
        userName: 'alice',
        accessKeyId: rng.accessKeyId('ASIA'),
        creationDate: isoSeconds(login),
        mfaAuthenticated: true,
      }),
      OFFICE_IPS[0],
      'AWS Internal',
    ),
    sessionCredentialFromConsole: 'true',
    requestParameters: { name: TRAIL_ARN },
  });
}

function compareRecords(a: CloudTrailRecord, b: CloudTrailRecord): number {
  const ta = a.eventTime ?? '';
  const tb = b.eventTime ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = a.eventID ?? '';
  const ib = b.eventID ?? '';
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * The demo: four ordinary days in account 111122223333 (console work, CI runs, EC2 and Lambda
 * workloads) and, on the third night, a leaked CI key used to explore, mint a session key,
 * create a backdoor admin, launch GPU instances in three regions and stop the trail. Logging
 * stays off until the next morning, so nothing in between is recorded. The result is the same
 * on every call, sorted by `eventTime` and `eventID`.
 */
export function demoScenario(): CloudTrailRecord[] {
  const rng = new Random('trailhound-demo-v1');
  const tl = new Timeline();
  const instances = [rng.instanceId(), rng.instanceId()];
  for (let day = 0; day < 4; day++) {
    alice(tl, rng.fork(`alice-${day}`), day);
    bob(tl, rng.fork(`bob-${day}`), day);
    ciDeploy(tl, rng.fork(`ci-${day}`), day);
  }
  ec2Fleet(tl, rng.fork('ec2'), instances);
  thumbnailer(tl, rng.fork('lambda'));
  compromise(tl);
  restartLogging(tl, rng.fork('restart'));

  const stopped = Date.parse(DEMO_FACTS.stopLoggingTime);
  const started = Date.parse(DEMO_FACTS.startLoggingTime);
  const recordRng = rng.fork('records');
  const records = tl.drafts
    .filter((d) => d.time.getTime() <= stopped || d.time.getTime() >= started)
    .sort((a, b) => a.time.getTime() - b.time.getTime())
    .map((d) => makeRecord(d.eventName, d.overrides, recordRng));
  return records.sort(compareRecords);
}
