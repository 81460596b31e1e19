import type { CloudTrailRecord, UserIdentity } from '../src/core/record.js';
import { isoSeconds } from '../src/core/time.js';
import { Random } from './random.js';

/** The account every builder uses when the caller names none (an AWS documentation example id). */
export const DEFAULT_ACCOUNT = '111122223333';

/** The instant every builder uses when the caller gives no `eventTime`. */
export const DEFAULT_EVENT_TIME = '2026-03-02T12:00:00Z';

/** The trail the synthetic records and layouts belong to (the console's default name). */
export const DEFAULT_TRAIL_NAME = 'management-events';

/** The trail's home region: where global-service events and trail management calls are logged. */
export const HOME_REGION = 'us-east-1';

/** The policy attackers attach most often once they can write IAM. */
export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** A user agent of AWS CLI v2 as it appears in recent records. */
export const CLI_USER_AGENT =
  'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#5.15.0-97-generic md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off';

/** A desktop browser user agent, as sign-in events record it. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';

/** Every event name `makeRecord` can build. */
export const EVENT_NAMES = [
  'ConsoleLogin',
  'GetCallerIdentity',
  'GetSessionToken',
  'AssumeRole',
  'ListBuckets',
  'GetBucketAcl',
  'CreateBucket',
  'GetObject',
  'PutObject',
  'DescribeInstances',
  'DescribeRegions',
  'DescribeSecurityGroups',
  'DescribeVolumes',
  'RunInstances',
  'ListUsers',
  'ListRoles',
  'ListAttachedUserPolicies',
  'CreateUser',
  'CreateAccessKey',
  'CreateLoginProfile',
  'AttachUserPolicy',
  'StopLogging',
  'StartLogging',
  'Decrypt',
  'ListFunctions20150331',
] as const;

/** An event name `makeRecord` can build. */
export type EventName = (typeof EVENT_NAMES)[number];

/** A partial version of `T` for overrides: every property optional, objects partial all the way down. */
export type DeepPartial<T> = T extends ReadonlyArray<unknown>
  ? T
  : T extends object
    ? { -readonly [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;

/**
 * The fields a caller changes on a canonical record. Objects merge deeply; arrays, scalars and
 * `null` replace. `userIdentity` replaces the default identity whole, so identities never mix.
 */
export type RecordOverrides = DeepPartial<CloudTrailRecord>;

/** Whether an event is a management or a data event, as CloudTrail's `eventCategory` says. */
export type EventCategory = 'Management' | 'Data';

/** What CloudTrail records about one API: its service, where it is logged, and how it is classed. */
export interface EventSpec {
  readonly eventSource: string;
  readonly category: EventCategory;
  readonly readOnly: boolean;
  /** Logged in us-east-1 whatever region the caller names (IAM, and S3's ListBuckets on the global endpoint). */
  readonly global: boolean;
  readonly eventVersion: string;
}

interface BuildContext {
  readonly rng: Random;
  readonly account: string;
  readonly region: string;
  readonly time: Date;
  readonly identity: UserIdentity;
  readonly o: RecordOverrides;
}

interface Built {
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
  readonly additionalEventData?: Record<string, unknown>;
  readonly resources?: ReadonlyArray<Record<string, unknown>>;
  readonly requestID?: string | null;
  readonly eventType?: string;
  readonly tlsHost?: string | null;
  readonly userIdentity?: UserIdentity;
}

interface Builder extends EventSpec {
  build(ctx: BuildContext): Built;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Formats an instant the way IAM and STS write dates inside `responseElements`
 * (`Mar 4, 2026, 2:05:07 AM`, UTC), unlike the ISO-8601 `eventTime` of the same record.
 */
export function awsJavaDate(date: Date): string {
  const h = date.getUTCHours();
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  const ss = String(date.getUTCSeconds()).padStart(2, '0');
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${hour12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

/** A stable IAM-style unique id for a name: the same text always gives the same id. */
export function stableId(prefix: 'AIDA' | 'AROA', text: string): string {
  return new Random(`id:${prefix}:${text}`).uniqueId(prefix);
}

/** A stable long-term access key id (`AKIA…`) for a name. */
export function stableAccessKeyId(text: string): string {
  return new Random(`key:${text}`).accessKeyId('AKIA');
}

/** The identity of an IAM user calling with a long-term access key. */
export function iamUserIdentity(opts: {
  readonly account: string;
  readonly userName: string;
  readonly accessKeyId?: string;
  readonly principalId?: string;
}): UserIdentity {
  return {
    type: 'IAMUser',
    principalId: opts.principalId ?? stableId('AIDA', `${opts.account}/${opts.userName}`),
    arn: `arn:aws:iam::${opts.account}:user/${opts.userName}`,
    accountId: opts.account,
    accessKeyId: opts.accessKeyId ?? stableAccessKeyId(`${opts.account}/${opts.userName}`),
    userName: opts.userName,
  };
}

/**
 * The identity of an IAM user calling with temporary credentials: a console session, or keys
 * from GetSessionToken. CloudTrail still says `IAMUser`, but the key is `ASIA…` and a
 * `sessionContext` appears with an empty `sessionIssuer`.
 */
export function iamUserSessionIdentity(opts: {
  readonly account: string;
  readonly userName: string;
  readonly accessKeyId: string;
  readonly creationDate: string;
  readonly mfaAuthenticated: boolean;
  readonly principalId?: string;
}): UserIdentity {
  return {
    ...iamUserIdentity(opts),
    sessionContext: {
      sessionIssuer: {},
      webIdFederationData: {},
      attributes: { creationDate: opts.creationDate, mfaAuthenticated: String(opts.mfaAuthenticated) },
    },
  };
}

/** The identity of a role session (`AssumedRole`), with the role as `sessionIssuer`. */
export function assumedRoleIdentity(opts: {
  readonly account: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly accessKeyId: string;
  readonly creationDate: string;
  readonly mfaAuthenticated?: boolean;
  readonly invokedBy?: string;
}): UserIdentity {
  const roleId = stableId('AROA', `${opts.account}/${opts.roleName}`);
  const identity: UserIdentity = {
    type: 'AssumedRole',
    principalId: `${roleId}:${opts.sessionName}`,
    arn: `arn:aws:sts::${opts.account}:assumed-role/${opts.roleName}/${opts.sessionName}`,
    accountId: opts.account,
    accessKeyId: opts.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: roleId,
        arn: `arn:aws:iam::${opts.account}:role/${opts.roleName}`,
        accountId: opts.account,
        userName: opts.roleName,
      },
      webIdFederationData: {},
      attributes: {
        creationDate: opts.creationDate,
        mfaAuthenticated: String(opts.mfaAuthenticated ?? false),
      },
    },
  };
  return opts.invokedBy ? { ...identity, invokedBy: opts.invokedBy } : identity;
}

/** The identity of an AWS service acting on its own (`AWSService`, e.g. EC2 assuming an instance role). */
export function awsServiceIdentity(service: string): UserIdentity {
  return { type: 'AWSService', invokedBy: service };
}

/** The identity of the account's root user. */
export function rootIdentity(account: string, accessKeyId?: string): UserIdentity {
  const identity: UserIdentity = {
    type: 'Root',
    principalId: account,
    arn: `arn:aws:iam::${account}:root`,
    accountId: account,
  };
  return accessKeyId ? { ...identity, accessKeyId } : identity;
}

/** The IAM action an event name stands for (`ListFunctions20150331` → `lambda:ListFunctions`). */
export function iamActionFor(eventName: EventName): string {
  const spec = BUILDERS[eventName];
  const service = spec.eventSource.replace('.amazonaws.com', '');
  const action = eventName.replace(/20\d{6}$/, '');
  return `${service}:${action}`;
}

/**
 * The `errorCode` and `errorMessage` AWS records when a caller lacks permission, worded per
 * service (EC2 prefixes its codes with `Client.`; S3 says only "Access Denied").
 */
export function accessDenied(
  eventName: EventName,
  identity: UserIdentity,
  resource = '*',
): { errorCode: string; errorMessage: string } {
  const action = iamActionFor(eventName);
  const who = identity.arn ?? 'unknown';
  const source = BUILDERS[eventName].eventSource;
  if (source === 's3.amazonaws.com') return { errorCode: 'AccessDenied', errorMessage: 'Access Denied' };
  const because = `because no identity-based policy allows the ${action} action`;
  if (source === 'ec2.amazonaws.com') {
    return {
      errorCode: 'Client.UnauthorizedOperation',
      errorMessage: `You are not authorized to perform this operation. User: ${who} is not authorized to perform: ${action} ${because}`,
    };
  }
  return { errorCode: 'AccessDenied', errorMessage: `User: ${who} is not authorized to perform: ${action} on resource: ${resource} ${because}` };
}

function record(o: unknown): Record<string, unknown> {
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function s3Extras(ctx: BuildContext, bytesIn: number, bytesOut: number): Record<string, unknown> {
  return {
    SignatureVersion: 'SigV4',
    CipherSuite: 'TLS_AES_128_GCM_SHA256',
    bytesTransferredIn: bytesIn,
    AuthenticationMethod: 'AuthHeader',
    'x-amz-id-2': ctx.rng.blob(76),
    bytesTransferredOut: bytesOut,
  };
}

function bucketOf(ctx: BuildContext): string {
  return text(record(ctx.o.requestParameters).bucketName, 'example-app-assets');
}

function bucketResource(ctx: BuildContext, bucket: string): Record<string, unknown> {
  return { accountId: ctx.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` };
}

function userNameOf(ctx: BuildContext): string {
  return text(record(ctx.o.requestParameters).userName, ctx.identity.userName ?? 'alice');
}

function ec2Host(ctx: BuildContext): string {
  return `ec2.${ctx.region}.amazonaws.com`;
}

function stsHost(ctx: BuildContext): string {
  return ctx.region === HOME_REGION ? 'sts.amazonaws.com' : `sts.${ctx.region}.amazonaws.com`;
}

function readOnlyCall(
  eventSource: string,
  global: boolean,
  eventVersion: string,
  requestParameters: (ctx: BuildContext) => Record<string, unknown> | null,
  host: (ctx: BuildContext) => string,
): Builder {
  return {
    eventSource,
    category: 'Management',
    readOnly: true,
    global,
    eventVersion,
    build: (ctx) => ({ requestParameters: requestParameters(ctx), responseElements: null, tlsHost: host(ctx) }),
  };
}

const VCPUS: Readonly<Record<string, number>> = {
  't3.micro': 2,
  't3.small': 2,
  't3.medium': 2,
  'm5.large': 2,
  'm5.xlarge': 4,
  'c5.xlarge': 4,
  'c5.24xlarge': 96,
  'p3.2xlarge': 8,
  'p3.8xlarge': 32,
  'p3.16xlarge': 64,
  'g4dn.xlarge': 4,
  'g4dn.12xlarge': 48,
  'p4d.24xlarge': 96,
};

function launchedInstance(ctx: BuildContext, instanceType: string, imageId: string, keyName: string | undefined, index: number, subnetId: string, vpcId: string, groupId: string): Record<string, unknown> {
  const octet3 = ctx.rng.int(0, 15);
  const octet4 = ctx.rng.int(4, 250);
  const privateIp = `172.31.${octet3}.${octet4}`;
  const dns = ctx.region === 'us-east-1' ? 'ec2.internal' : `${ctx.region}.compute.internal`;
  const item: Record<string, unknown> = {
    instanceId: ctx.rng.instanceId(),
    imageId,
    currentInstanceBootMode: 'legacy-bios',
    instanceState: { code: 0, name: 'pending' },
    privateDnsName: `ip-172-31-${octet3}-${octet4}.${dns}`,
    amiLaunchIndex: index,
    productCodes: {},
    instanceType,
    launchTime: ctx.time.getTime(),
    placement: { availabilityZone: `${ctx.region}a`, tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId,
    vpcId,
    privateIpAddress: privateIp,
    stateReason: { code: 'pending', message: 'pending' },
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: {},
    virtualizationType: 'hvm',
    hypervisor: 'xen',
    groupSet: { items: [{ groupId, groupName: 'default' }] },
    sourceDestCheck: true,
    ebsOptimized: false,
    enaSupport: true,
    cpuOptions: { coreCount: Math.max(1, (VCPUS[instanceType] ?? 2) / 2), threadsPerCore: 2 },
    capacityReservationSpecification: { capacityReservationPreference: 'open' },
    enclaveOptions: { enabled: false },
    metadataOptions: { state: 'pending', httpTokens: 'required', httpPutResponseHopLimit: 2, httpEndpoint: 'enabled', httpProtocolIpv4: 'enabled', httpProtocolIpv6: 'disabled', instanceMetadataTags: 'disabled' },
    privateDnsNameOptions: { hostnameType: 'ip-name', enableResourceNameDnsARecord: false, enableResourceNameDnsAAAARecord: false },
    maintenanceOptions: { autoRecovery: 'default' },
  };
  return keyName ? { ...item, keyName } : item;
}

const BUILDERS: Record<EventName, Builder> = {
  ConsoleLogin: {
    eventSource: 'signin.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const failed = typeof ctx.o.errorMessage === 'string' && ctx.o.errorMessage !== '';
      const mfaUsed = text(record(ctx.o.additionalEventData).MFAUsed, 'Yes');
      const extra: Record<string, unknown> = {
        LoginTo: 'https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_6a2f0c9d1b3e4f57',
        MobileVersion: 'No',
      };
      if (mfaUsed === 'Yes' && ctx.identity.userName) {
        extra.MFAIdentifier = `arn:aws:iam::${ctx.account}:mfa/${ctx.identity.userName}`;
      }
      extra.MFAUsed = mfaUsed;
      const { accessKeyId: _dropped, sessionContext: _none, ...identity } = ctx.identity;
      return {
        userIdentity: identity,
        requestParameters: null,
        responseElements: { ConsoleLogin: failed ? 'Failure' : 'Success' },
        additionalEventData: extra,
        requestID: null,
        eventType: 'AwsConsoleSignIn',
        tlsHost: null,
      };
    },
  },
  GetCallerIdentity: readOnlyCall('sts.amazonaws.com', false, '1.08', () => null, stsHost),
  GetSessionToken: {
    eventSource: 'sts.amazonaws.com',
    category: 'Management',
    readOnly: true,
    global: false,
    eventVersion: '1.08',
    build(ctx) {
      const duration = num(record(ctx.o.requestParameters).durationSeconds, 43200);
      return {
        requestParameters: { durationSeconds: duration },
        responseElements: {
          credentials: {
            accessKeyId: ctx.rng.accessKeyId('ASIA'),
            sessionToken: `IQoJb3JpZ2luX2Vj${ctx.rng.blob(380)}`,
            expiration: awsJavaDate(new Date(ctx.time.getTime() + duration * 1000)),
          },
        },
        tlsHost: stsHost(ctx),
      };
    },
  },
  AssumeRole: {
    eventSource: 'sts.amazonaws.com',
    category: 'Management',
    readOnly: true,
    global: false,
    eventVersion: '1.08',
    build(ctx) {
      const params = record(ctx.o.requestParameters);
      const roleArn = text(params.roleArn, `arn:aws:iam::${ctx.account}:role/app-server-role`);
      const roleName = roleArn.split('/').pop() ?? 'role';
      const roleAccount = roleArn.split(':')[4] ?? ctx.account;
      const sessionName = text(params.roleSessionName, ctx.rng.instanceId());
      const duration = num(params.durationSeconds, 3600);
      const byService = ctx.identity.type === 'AWSService';
      const requestParameters: Record<string, unknown> = { roleArn, roleSessionName: sessionName };
      if (!byService) requestParameters.durationSeconds = duration;
      return {
        requestParameters,
        responseElements: {
          credentials: {
            accessKeyId: ctx.rng.accessKeyId('ASIA'),
            sessionToken: `IQoJb3JpZ2luX2Vj${ctx.rng.blob(420)}`,
            expiration: awsJavaDate(new Date(ctx.time.getTime() + (byService ? 21600 : duration) * 1000)),
          },
          assumedRoleUser: {
            assumedRoleId: `${stableId('AROA', `${roleAccount}/${roleName}`)}:${sessionName}`,
            arn: `arn:aws:sts::${roleAccount}:assumed-role/${roleName}/${sessionName}`,
          },
        },
        resources: [{ accountId: roleAccount, type: 'AWS::IAM::Role', ARN: roleArn }],
        tlsHost: byService ? null : stsHost(ctx),
      };
    },
  },
  ListBuckets: {
    eventSource: 's3.amazonaws.com',
    category: 'Management',
    readOnly: true,
    global: true,
    eventVersion: '1.09',
    build(ctx) {
      return {
        requestParameters: { Host: 's3.amazonaws.com' },
        responseElements: null,
        additionalEventData: s3Extras(ctx, 0, ctx.rng.int(600, 4200)),
        requestID: ctx.rng.s3RequestId(),
        tlsHost: 's3.amazonaws.com',
      };
    },
  },
  GetBucketAcl: {
    eventSource: 's3.amazonaws.com',
    category: 'Management',
    readOnly: true,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const bucket = bucketOf(ctx);
      const host = `${bucket}.s3.${ctx.region}.amazonaws.com`;
      return {
        requestParameters: { bucketName: bucket, Host: host, acl: '' },
        responseElements: null,
        additionalEventData: s3Extras(ctx, 0, ctx.rng.int(500, 700)),
        requestID: ctx.rng.s3RequestId(),
        resources: [bucketResource(ctx, bucket)],
        tlsHost: host,
      };
    },
  },
  CreateBucket: {
    eventSource: 's3.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const bucket = bucketOf(ctx);
      const host = `${bucket}.s3.${ctx.region}.amazonaws.com`;
      const requestParameters: Record<string, unknown> =
        ctx.region === 'us-east-1'
          ? { bucketName: bucket, Host: host }
          : {
              CreateBucketConfiguration: { LocationConstraint: ctx.region, xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
              bucketName: bucket,
              Host: host,
            };
      return {
        requestParameters,
        responseElements: null,
        additionalEventData: s3Extras(ctx, ctx.region === 'us-east-1' ? 0 : 153, 0),
        requestID: ctx.rng.s3RequestId(),
        resources: [bucketResource(ctx, bucket)],
        tlsHost: host,
      };
    },
  },
  GetObject: {
    eventSource: 's3.amazonaws.com',
    category: 'Data',
    readOnly: true,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const bucket = bucketOf(ctx);
      const key = text(record(ctx.o.requestParameters).key, 'config/app.json');
      const host = `${bucket}.s3.${ctx.region}.amazonaws.com`;
      return {
        requestParameters: { bucketName: bucket, Host: host, key },
        responseElements: null,
        additionalEventData: s3Extras(ctx, 0, ctx.rng.int(200, 900_000)),
        requestID: ctx.rng.s3RequestId(),
        resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, bucketResource(ctx, bucket)],
        tlsHost: host,
      };
    },
  },
  PutObject: {
    eventSource: 's3.amazonaws.com',
    category: 'Data',
    readOnly: false,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const bucket = bucketOf(ctx);
      const key = text(record(ctx.o.requestParameters).key, 'uploads/report.csv');
      const host = `${bucket}.s3.${ctx.region}.amazonaws.com`;
      return {
        requestParameters: { bucketName: bucket, Host: host, key },
        responseElements: { 'x-amz-server-side-encryption': 'AES256' },
        additionalEventData: s3Extras(ctx, ctx.rng.int(200, 2_000_000), 0),
        requestID: ctx.rng.s3RequestId(),
        resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, bucketResource(ctx, bucket)],
        tlsHost: host,
      };
    },
  },
  DescribeInstances: readOnlyCall('ec2.amazonaws.com', false, '1.09', () => ({ instancesSet: {}, filterSet: {} }), ec2Host),
  DescribeRegions: readOnlyCall('ec2.amazonaws.com', false, '1.09', () => ({ regionSet: {} }), ec2Host),
  DescribeSecurityGroups: readOnlyCall(
    'ec2.amazonaws.com',
    false,
    '1.09',
    () => ({ securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }),
    ec2Host,
  ),
  DescribeVolumes: readOnlyCall('ec2.amazonaws.com', false, '1.09', () => ({ volumeSet: {}, filterSet: {} }), ec2Host),
  RunInstances: {
    eventSource: 'ec2.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const params = record(ctx.o.requestParameters);
      const instanceType = text(params.instanceType, 't3.micro');
      const firstItem = record((record(params.instancesSet).items as unknown[] | undefined)?.[0]);
      const imageId = text(firstItem.imageId, `ami-${ctx.rng.hex(17)}`);
      const count = Math.max(1, num(firstItem.maxCount, 1));
      const keyName = typeof firstItem.keyName === 'string' ? firstItem.keyName : undefined;
      const subnetId = ctx.rng.resourceId('subnet');
      const vpcId = ctx.rng.resourceId('vpc');
      const groupId = ctx.rng.resourceId('sg');
      const item: Record<string, unknown> = { imageId, minCount: count, maxCount: count };
      if (keyName) item.keyName = keyName;
      const requestParameters: Record<string, unknown> = {
        instancesSet: { items: [item] },
        instanceType,
        blockDeviceMapping: {},
        monitoring: { enabled: false },
        disableApiTermination: false,
        disableApiStop: false,
        clientToken: ctx.rng.uuid(),
      };
      const items = [];
      for (let i = 0; i < count; i++) items.push(launchedInstance(ctx, instanceType, imageId, keyName, i, subnetId, vpcId, groupId));
      return {
        requestParameters,
        responseElements: {
          requestId: ctx.rng.uuid(),
          reservationId: ctx.rng.resourceId('r'),
          ownerId: ctx.account,
          groupSet: {},
          instancesSet: { items },
        },
        tlsHost: ec2Host(ctx),
      };
    },
  },
  ListUsers: readOnlyCall('iam.amazonaws.com', true, '1.08', () => null, () => 'iam.amazonaws.com'),
  ListRoles: readOnlyCall('iam.amazonaws.com', true, '1.08', () => null, () => 'iam.amazonaws.com'),
  ListAttachedUserPolicies: readOnlyCall(
    'iam.amazonaws.com',
    true,
    '1.08',
    (ctx) => ({ userName: userNameOf(ctx) }),
    () => 'iam.amazonaws.com',
  ),
  CreateUser: {
    eventSource: 'iam.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: true,
    eventVersion: '1.08',
    build(ctx) {
      const userName = userNameOf(ctx);
      return {
        requestParameters: { userName },
        responseElements: {
          user: {
            path: '/',
            userName,
            userId: stableId('AIDA', `${ctx.account}/${userName}`),
            arn: `arn:aws:iam::${ctx.account}:user/${userName}`,
            createDate: awsJavaDate(ctx.time),
          },
        },
        tlsHost: 'iam.amazonaws.com',
      };
    },
  },
  CreateAccessKey: {
    eventSource: 'iam.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: true,
    eventVersion: '1.08',
    build(ctx) {
      const userName = userNameOf(ctx);
      return {
        requestParameters: { userName },
        responseElements: {
          accessKey: {
            userName,
            accessKeyId: ctx.rng.accessKeyId('AKIA'),
            status: 'Active',
            createDate: awsJavaDate(ctx.time),
          },
        },
        tlsHost: 'iam.amazonaws.com',
      };
    },
  },
  CreateLoginProfile: {
    eventSource: 'iam.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: true,
    eventVersion: '1.08',
    build(ctx) {
      const userName = userNameOf(ctx);
      return {
        requestParameters: { userName, passwordResetRequired: false },
        responseElements: {
          loginProfile: { userName, createDate: awsJavaDate(ctx.time), passwordResetRequired: false },
        },
        tlsHost: 'iam.amazonaws.com',
      };
    },
  },
  AttachUserPolicy: {
    eventSource: 'iam.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: true,
    eventVersion: '1.08',
    build(ctx) {
      const policyArn = text(record(ctx.o.requestParameters).policyArn, ADMINISTRATOR_ACCESS_ARN);
      return {
        requestParameters: { userName: userNameOf(ctx), policyArn },
        responseElements: null,
        tlsHost: 'iam.amazonaws.com',
      };
    },
  },
  StopLogging: trailSwitch(),
  StartLogging: trailSwitch(),
  Decrypt: {
    eventSource: 'kms.amazonaws.com',
    category: 'Management',
    readOnly: true,
    global: false,
    eventVersion: '1.08',
    build(ctx) {
      const context = record(ctx.o.requestParameters).encryptionContext;
      const keyArn = `arn:aws:kms:${ctx.region}:${ctx.account}:key/${new Random(`kms:${ctx.account}:${ctx.region}`).uuid()}`;
      return {
        requestParameters: {
          encryptionContext: context && typeof context === 'object' ? context : { PARAMETER_ARN: `arn:aws:ssm:${ctx.region}:${ctx.account}:parameter/app/db-password` },
          encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        },
        responseElements: null,
        resources: [{ accountId: ctx.account, type: 'AWS::KMS::Key', ARN: keyArn }],
        tlsHost: ctx.identity.invokedBy ? null : `kms.${ctx.region}.amazonaws.com`,
      };
    },
  },
  ListFunctions20150331: readOnlyCall('lambda.amazonaws.com', false, '1.08', () => null, (ctx) => `lambda.${ctx.region}.amazonaws.com`),
};

function trailSwitch(): Builder {
  return {
    eventSource: 'cloudtrail.amazonaws.com',
    category: 'Management',
    readOnly: false,
    global: false,
    eventVersion: '1.09',
    build(ctx) {
      const name = text(
        record(ctx.o.requestParameters).name,
        `arn:aws:cloudtrail:${HOME_REGION}:${ctx.account}:trail/${DEFAULT_TRAIL_NAME}`,
      );
      return { requestParameters: { name }, responseElements: null, tlsHost: `cloudtrail.${ctx.region}.amazonaws.com` };
    },
  };
}

/** The service, category and logging region rules CloudTrail applies to an event name. */
export function eventSpec(eventName: EventName): EventSpec {
  const { build: _build, ...spec } = BUILDERS[eventName];
  return spec;
}

/** True when `name` is an event name `makeRecord` can build. */
export function isEventName(name: string): name is EventName {
  return Object.hasOwn(BUILDERS, name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Merges `patch` into `base` without changing either: plain objects merge key by key, anything
 * else in `patch` (arrays, scalars, `null`) replaces; `undefined` leaves the base value.
 */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : value;
  }
  return out as T;
}

const FIELD_ORDER = [
  'eventVersion',
  'userIdentity',
  'eventTime',
  'eventSource',
  'eventName',
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'errorMessage',
  'requestParameters',
  'responseElements',
  'additionalEventData',
  'requestID',
  'eventID',
  'readOnly',
  'resources',
  'eventType',
  'apiVersion',
  'managementEvent',
  'recipientAccountId',
  'sharedEventID',
  'vpcEndpointId',
  'eventCategory',
  'tlsDetails',
  'sessionCredentialFromConsole',
] as const;

/**
 * Builds a canonical CloudTrail record for `eventName`, shaped as AWS writes it, and applies the
 * caller's overrides on top. Fields that depend on others (resource ARNs, S3 hosts, instance
 * types in the response) follow the overrides, so a caller states only what it changes; events
 * of global services keep `awsRegion` us-east-1 even when an override names another region.
 * Without `rng`, the record depends only on the arguments.
 *
 * @example
 * makeRecord('AttachUserPolicy', {
 *   eventTime: '2026-03-04T02:05:30Z',
 *   requestParameters: { userName: 'backup-admin' },
 * });
 */
export function makeRecord(eventName: EventName, overrides: RecordOverrides = {}, rng?: Random): CloudTrailRecord {
  return buildRecord(eventName, BUILDERS[eventName], overrides, rng);
}

/**
 * Builds a record for any API call without a canonical builder: a management call of
 * `eventSource` whose request parameters (and anything else) come from the overrides.
 * Read-only when the name starts with Get, List, Describe or Head; IAM calls are logged in
 * us-east-1.
 *
 * @example
 * makeCall('DeleteTrail', 'cloudtrail.amazonaws.com', { requestParameters: { name: 'main' } });
 */
export function makeCall(eventName: string, eventSource: string, overrides: RecordOverrides = {}, rng?: Random): CloudTrailRecord {
  const service = eventSource.split('.')[0] ?? eventSource;
  const global = eventSource === 'iam.amazonaws.com';
  const builder: Builder = {
    eventSource,
    category: 'Management',
    readOnly: /^(Get|List|Describe|Head)/.test(eventName),
    global,
    eventVersion: '1.08',
    build: (ctx) => ({ requestParameters: null, responseElements: null, tlsHost: global ? eventSource : `${service}.${ctx.region}.amazonaws.com` }),
  };
  return buildRecord(eventName, builder, overrides, rng);
}

function buildRecord(eventName: string, builder: Builder, overrides: RecordOverrides, rng?: Random): CloudTrailRecord {
  const random = rng ?? new Random(`record:${eventName}:${JSON.stringify(overrides)}`);
  const o = overrides;
  const identity = (o.userIdentity as UserIdentity | undefined) ?? iamUserIdentity({ account: DEFAULT_ACCOUNT, userName: 'alice' });
  const account = text(o.recipientAccountId, identity.accountId ?? DEFAULT_ACCOUNT);
  const region = builder.global ? HOME_REGION : text(o.awsRegion, HOME_REGION);
  const eventTime = text(o.eventTime, DEFAULT_EVENT_TIME);
  const time = new Date(eventTime);
  const built = builder.build({ rng: random, account, region, time, identity, o });
  const service = identity.type === 'AWSService' ? identity.invokedBy : undefined;
  const viaService = identity.invokedBy;

  const base: Record<string, unknown> = {
    eventVersion: builder.eventVersion,
    userIdentity: built.userIdentity ?? identity,
    eventTime: isoSeconds(time),
    eventSource: builder.eventSource,
    eventName,
    awsRegion: region,
    sourceIPAddress: viaService ?? '192.0.2.10',
    userAgent: service ?? viaService ?? (eventName === 'ConsoleLogin' ? BROWSER_USER_AGENT : CLI_USER_AGENT),
    requestParameters: built.requestParameters ?? null,
    responseElements: built.responseElements ?? null,
    additionalEventData: built.additionalEventData,
    requestID: built.requestID === null ? undefined : (built.requestID ?? random.requestId()),
    eventID: random.uuid(),
    readOnly: builder.readOnly,
    resources: built.resources,
    eventType: built.eventType ?? 'AwsApiCall',
    managementEvent: builder.category === 'Management',
    recipientAccountId: account,
    eventCategory: builder.category,
  };
  if (built.tlsHost && !viaService) {
    base.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: built.tlsHost };
  }
  const { userIdentity: _identity, ...rest } = o;
  const failed = typeof o.errorCode === 'string' && o.errorCode !== '';
  if (failed && !('responseElements' in o)) base.responseElements = null;
  const merged = deepMerge(base, rest);
  if (builder.global) merged.awsRegion = HOME_REGION;

  const ordered: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) if (merged[key] !== undefined) ordered[key] = merged[key];
  for (const [key, value] of Object.entries(merged)) if (!(key in ordered) && value !== undefined) ordered[key] = value;
  return ordered as CloudTrailRecord;
}
