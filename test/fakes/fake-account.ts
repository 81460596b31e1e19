/**
 * A fake AWS account on one loopback endpoint, as LocalStack serves every service: IAM, STS,
 * EC2 and Auto Scaling (query protocol, XML), ECS, ECR, Lightsail, Route 53 Domains and
 * SageMaker (JSON 1.1), Lambda (REST JSON). It pages every list by `pageSize`, can deny a call
 * everywhere or in one region, throttle a call's first request, and builds the credential
 * report over several polls. Every call it receives is recorded as `service:Action`.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, sendJson, sendJsonError, sendXml, xmlEscape, type SeenRequest } from './http.js';

export interface FakeKey {
  id: string;
  status: 'Active' | 'Inactive';
  created: string;
  lastUsed?: { date: string; service: string; region: string };
}
export interface FakeUser {
  name: string;
  created: string;
  password?: boolean;
  mfa?: string[];
  groups?: string[];
  attached?: string[];
  inline?: string[];
  keys?: FakeKey[];
}
export interface FakeRole {
  name: string;
  created: string;
  trust: unknown;
  lastUsed?: { date: string; region: string };
  attached?: string[];
  inline?: string[];
}
export interface FakeInstance {
  id: string;
  state: string;
  type: string;
  launched: string;
  tags?: Record<string, string>;
}
export interface FakeRegion {
  instances?: FakeInstance[];
  spot?: Array<{ id: string; state: string; created: string; instanceId?: string }>;
  images?: Array<{ id: string; name: string; created: string }>;
  volumes?: Array<{ id: string; size: number; state: string; created: string }>;
  snapshots?: Array<{ id: string; size: number; created: string }>;
  keyPairs?: Array<{ name: string; created: string }>;
  launchTemplates?: Array<{ name: string; created: string; createdBy: string }>;
  groups?: Array<{ name: string; created: string; desired: number }>;
  clusters?: Array<{ name: string; status: string }>;
  repositories?: Array<{ name: string; created: string }>;
  functions?: Array<{ name: string; runtime: string; modified: string }>;
  layers?: Array<{ name: string; created: string }>;
  lightsail?: Array<{ name: string; state: string; created: string }>;
  notebooks?: Array<{ name: string; status: string; created: string }>;
}

export interface FakeAccountState {
  account: string;
  callerArn: string;
  regions: Array<{ name: string; optInStatus: string }>;
  users: FakeUser[];
  roles: FakeRole[];
  regional: Record<string, FakeRegion>;
  domains?: Array<{ name: string; expiry: string }>;
}

const ACCOUNT_ID = '111122223333';

/** A small account: two users (one with an exposed key), a role, resources in two regions. */
export function sampleAccount(): FakeAccountState {
  return {
    account: ACCOUNT_ID,
    callerArn: `arn:aws:iam::${ACCOUNT_ID}:user/responder`,
    regions: [
      { name: 'us-east-1', optInStatus: 'opt-in-not-required' },
      { name: 'sa-east-1', optInStatus: 'opt-in-not-required' },
      { name: 'eu-west-1', optInStatus: 'opt-in-not-required' },
      { name: 'af-south-1', optInStatus: 'not-opted-in' },
      { name: 'me-central-1', optInStatus: 'opted-in' },
    ],
    users: [
      {
        name: 'deploy',
        created: '2025-01-10T09:00:00Z',
        groups: ['deployers'],
        attached: ['arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2'],
        keys: [{ id: 'AKIAQ3EGRV7XCIDEPLOY', status: 'Active', created: '2025-01-10T09:05:00Z', lastUsed: { date: '2026-03-02T11:00:00Z', service: 'ec2', region: 'sa-east-1' } }],
      },
      { name: 'alice', created: '2024-05-01T08:00:00Z', password: true, mfa: ['arn:aws:iam::111122223333:mfa/alice'], keys: [{ id: 'AKIAALICEKEY00000001', status: 'Inactive', created: '2024-05-01T08:10:00Z' }] },
      { name: 'backdoor', created: '2026-03-02T11:05:00Z', password: true, inline: ['admin'], keys: [{ id: 'AKIABACKDOOR0000001X', status: 'Active', created: '2026-03-02T11:06:00Z' }] },
      { name: 'svc-1', created: '2024-01-01T00:00:00Z' },
      { name: 'svc-2', created: '2024-01-01T00:00:00Z' },
    ],
    roles: [
      {
        name: 'ci-deployer',
        created: '2024-02-02T00:00:00Z',
        trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'sts:AssumeRole' }] },
        lastUsed: { date: '2026-03-02T11:20:00Z', region: 'us-east-1' },
        attached: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      },
    ],
    regional: {
      'us-east-1': {
        instances: [{ id: 'i-0a1b2c3d4e5f60718', state: 'stopped', type: 't3.micro', launched: '2025-06-01T00:00:00Z', tags: { Name: 'web' } }],
        functions: [{ name: 'thumbnailer', runtime: 'nodejs20.x', modified: '2025-07-01T00:00:00.000+0000' }],
        repositories: [{ name: 'app', created: '2025-02-01T00:00:00Z' }],
        lightsail: [{ name: 'box', state: 'running', created: '2026-03-02T11:33:00Z' }],
      },
      'sa-east-1': {
        instances: [
          { id: 'i-0123456789abcdef0', state: 'running', type: 'p3.16xlarge', launched: '2026-03-02T11:10:00Z' },
          { id: 'i-0123456789abcdef1', state: 'terminated', type: 'p3.16xlarge', launched: '2026-03-02T11:10:00Z' },
          { id: 'i-0123456789abcdef2', state: 'running', type: 'p3.16xlarge', launched: '2026-03-02T11:10:00Z' },
        ],
        spot: [{ id: 'sir-abcd1234', state: 'active', created: '2026-03-02T11:11:00Z', instanceId: 'i-0123456789abcdef2' }],
        keyPairs: [{ name: 'miner', created: '2026-03-02T11:09:00Z' }],
        launchTemplates: [{ name: 'gpu-miner', created: '2026-03-02T11:08:00Z', createdBy: 'arn:aws:iam::111122223333:user/deploy' }],
        groups: [{ name: 'miners', created: '2026-03-02T11:12:00Z', desired: 10 }],
        images: [{ id: 'ami-0123456789abcdef0', name: 'copy', created: '2026-03-02T11:30:00Z' }],
        volumes: [{ id: 'vol-0123456789abcdef0', size: 100, state: 'available', created: '2026-03-02T11:31:00Z' }],
        snapshots: [{ id: 'snap-0123456789abcdef0', size: 100, created: '2026-03-02T11:32:00Z' }],
        clusters: [{ name: 'jobs', status: 'ACTIVE' }],
        notebooks: [{ name: 'nb', status: 'InService', created: '2026-03-02T11:34:00Z' }],
        layers: [{ name: 'shared', created: '2026-03-02T11:35:00Z' }],
      },
      'me-central-1': {
        instances: [{ id: 'i-0fedcba9876543210', state: 'running', type: 'c5.24xlarge', launched: '2026-02-20T00:00:00Z' }],
      },
    },
    domains: [{ name: 'example-pay.com', expiry: '2027-03-02T00:00:00Z' }],
  };
}

/** `service:Action` of a request, and the region it was signed for. */
export interface SeenCall {
  readonly call: string;
  readonly region: string | undefined;
}

const JSON_TARGETS: ReadonlyArray<[string, string]> = [
  ['AmazonEC2ContainerServiceV20141113.', 'ecs'],
  ['AmazonEC2ContainerRegistry_V20150921.', 'ecr'],
  ['Lightsail_20161128.', 'lightsail'],
  ['Route53Domains_v20140515.', 'route53domains'],
  ['SageMaker.', 'sagemaker'],
];
const QUERY_VERSIONS: Readonly<Record<string, string>> = { '2010-05-08': 'iam', '2011-06-15': 'sts', '2016-11-15': 'ec2', '2011-01-01': 'autoscaling' };
const XMLNS: Readonly<Record<string, string>> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
};

/** XML of a value: objects as elements, lists as `member` (query) or `item` (EC2) elements. */
function xml(value: unknown, item: string): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<${item}>${xml(v, item)}</${item}>`).join('');
  if (typeof value === 'object') return Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => `<${k}>${xml(v, item)}</${k}>`).join('');
  return xmlEscape(String(value));
}

const ec2Tags = (tags: Record<string, string> = {}) => Object.entries(tags).map(([key, value]) => ({ key, value }));

export class FakeAccount {
  readonly server = new FakeServer((req, res) => this.handle(req, res));
  readonly calls: SeenCall[] = [];
  /** Items per page of every list. */
  pageSize = 2;
  /** `service:Action` denied everywhere, or `region/service:Action` in one region. */
  readonly denied = new Set<string>();
  /** `service:Action` answered as if the credentials were not AWS's (InvalidClientTokenId). */
  readonly rejected = new Set<string>();
  /** `service:Action` whose first request is throttled. */
  readonly throttleOnce = new Set<string>();
  /** Polls of GenerateCredentialReport that answer STARTED before COMPLETE. */
  reportPollsBeforeReady = 2;
  private reportPolls = 0;
  private readonly throttled = new Set<string>();

  constructor(public state: FakeAccountState = sampleAccount()) {}

  start(): Promise<string> {
    return this.server.start();
  }
  stop(): Promise<void> {
    return this.server.stop();
  }

  /** A page of `items` from `token` (an offset), and the next token. */
  private page<T>(items: readonly T[], token: string | null | undefined): { items: T[]; next: string | undefined } {
    const from = token ? Number(token.replace(/^p/, '')) : 0;
    const to = from + this.pageSize;
    return { items: items.slice(from, to), next: to < items.length ? `p${to}` : undefined };
  }

  private async handle(req: SeenRequest, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = JSON_TARGETS.find(([prefix]) => target.startsWith(prefix));
    if (json) return this.json(json[1], target.slice(json[0].length), req, res);
    if (req.path.startsWith('/2015-03-31/functions') || req.path.startsWith('/2018-10-31/layers')) return this.lambda(req, res);
    const form = new URLSearchParams(req.body);
    const service = QUERY_VERSIONS[form.get('Version') ?? ''];
    if (!service) return sendJsonError(res, 400, 'UnknownOperation', `no fake for ${req.method} ${req.path}`);
    return this.query(service, form.get('Action') ?? '', form, req, res);
  }

  /** Whether the call is refused (denied or throttled), with the error sent. */
  private refused(call: string, region: string | undefined, send: (status: number, code: string, message: string) => void): boolean {
    this.calls.push({ call, region });
    if (this.denied.has(call) || (region && this.denied.has(`${region}/${call}`))) {
      send(403, call.startsWith('ec2:') ? 'UnauthorizedOperation' : 'AccessDeniedException', `not authorized to perform ${call}`);
      return true;
    }
    if (this.rejected.has(call)) {
      send(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      return true;
    }
    if (this.throttleOnce.has(call) && !this.throttled.has(call)) {
      this.throttled.add(call);
      send(400, call.startsWith('ec2:') ? 'RequestLimitExceeded' : call.startsWith('iam:') || call.startsWith('autoscaling:') ? 'Throttling' : 'ThrottlingException', 'Rate exceeded');
      return true;
    }
    return false;
  }

  private region(req: SeenRequest): FakeRegion {
    return this.state.regional[req.region ?? ''] ?? {};
  }

  private query(service: string, action: string, form: URLSearchParams, req: SeenRequest, res: ServerResponse): void {
    const call = `${service}:${action}`;
    const ns = XMLNS[service]!;
    const item = service === 'ec2' ? 'item' : 'member';
    const fail = (status: number, code: string, message: string) =>
      service === 'ec2'
        ? sendXml(res, status, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>fake</RequestID></Response>`)
        : sendXml(res, status, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`);
    if (this.refused(call, req.region, (s, c, m) => fail(s, c === 'AccessDeniedException' ? 'AccessDenied' : c, m))) return;
    const ok = (body: Record<string, unknown>) =>
      service === 'ec2'
        ? sendXml(res, 200, `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${ns}"><requestId>fake</requestId>${xml(body, item)}</${action}Response>`)
        : sendXml(res, 200, `<${action}Response xmlns="${ns}"><${action}Result>${xml(body, item)}</${action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></${action}Response>`);
    const handler = this.queryHandlers(form, req, fail)[call];
    if (!handler) return fail(400, 'InvalidAction', `the fake does not answer ${call}`);
    const body = handler();
    if (body) ok(body);
  }

  private queryHandlers(form: URLSearchParams, req: SeenRequest, fail: (status: number, code: string, message: string) => void): Record<string, () => Record<string, unknown> | undefined> {
    const s = this.state;
    const user = () => s.users.find((u) => u.name === form.get('UserName'));
    const role = () => s.roles.find((r) => r.name === form.get('RoleName'));
    const iamPage = <T>(items: readonly T[], key: string, map: (t: T) => unknown) => {
      const p = this.page(items, form.get('Marker'));
      return { [key]: p.items.map(map), IsTruncated: p.next !== undefined, ...(p.next ? { Marker: p.next } : {}) };
    };
    const ofUser = <T>(key: string, pick: (u: FakeUser) => readonly T[] | undefined, map: (t: T) => unknown) => () => {
      const u = user();
      if (!u) return void fail(404, 'NoSuchEntity', `The user with name ${form.get('UserName')} cannot be found.`);
      return iamPage(pick(u) ?? [], key, map);
    };
    const ofRole = <T>(key: string, pick: (r: FakeRole) => readonly T[] | undefined, map: (t: T) => unknown) => () => {
      const r = role();
      if (!r) return void fail(404, 'NoSuchEntity', `The role with name ${form.get('RoleName')} cannot be found.`);
      return iamPage(pick(r) ?? [], key, map);
    };
    const userArn = (u: FakeUser) => `arn:aws:iam::${s.account}:user/${u.name}`;
    const roleXml = (r: FakeRole, full: boolean) => ({
      RoleName: r.name,
      RoleId: `AROA${r.name.toUpperCase().padEnd(17, 'X').slice(0, 17)}`,
      Arn: `arn:aws:iam::${s.account}:role/${r.name}`,
      Path: '/',
      CreateDate: r.created,
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(r.trust)),
      ...(full && r.lastUsed ? { RoleLastUsed: { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } } : {}),
    });
    const region = this.region(req);
    const ec2Page = <T>(items: readonly T[] | undefined, key: string, map: (t: T) => unknown) => {
      const p = this.page(items ?? [], form.get('NextToken'));
      return { [key]: p.items.map(map), ...(p.next ? { nextToken: p.next } : {}) };
    };
    return {
      'sts:GetCallerIdentity': () => ({ Account: s.account, Arn: s.callerArn, UserId: 'AIDAFAKE' }),
      'ec2:DescribeRegions': () => ({ regionInfo: s.regions.map((r) => ({ regionName: r.name, regionEndpoint: `ec2.${r.name}.amazonaws.com`, optInStatus: r.optInStatus })) }),
      'iam:ListUsers': () => iamPage(s.users, 'Users', (u) => ({ UserName: u.name, UserId: `AIDA${u.name.toUpperCase()}`, Arn: userArn(u), Path: '/', CreateDate: u.created })),
      'iam:GetLoginProfile': () => {
        const u = user();
        if (!u?.password) return void fail(404, 'NoSuchEntity', `The user with name ${form.get('UserName')} cannot be found.`);
        return { LoginProfile: { UserName: u.name, CreateDate: u.created, PasswordResetRequired: false } };
      },
      'iam:ListMFADevices': ofUser('MFADevices', (u) => u.mfa, (m) => ({ UserName: form.get('UserName'), SerialNumber: m, EnableDate: '2024-05-01T08:00:00Z' })),
      'iam:ListGroupsForUser': ofUser('Groups', (u) => u.groups, (g) => ({ GroupName: g, GroupId: 'AGPAFAKE', Arn: `arn:aws:iam::${s.account}:group/${g}`, Path: '/', CreateDate: '2024-01-01T00:00:00Z' })),
      'iam:ListAttachedUserPolicies': ofUser('AttachedPolicies', (u) => u.attached, (a) => ({ PolicyArn: a, PolicyName: a.split('/').at(-1) })),
      'iam:ListUserPolicies': ofUser('PolicyNames', (u) => u.inline, (n) => n),
      'iam:ListAccessKeys': ofUser('AccessKeyMetadata', (u) => u.keys, (k) => ({ UserName: form.get('UserName'), AccessKeyId: k.id, Status: k.status, CreateDate: k.created })),
      'iam:GetAccessKeyLastUsed': () => {
        const owner = s.users.find((u) => u.keys?.some((k) => k.id === form.get('AccessKeyId')));
        const key = owner?.keys?.find((k) => k.id === form.get('AccessKeyId'));
        if (!owner || !key) return void fail(404, 'NoSuchEntity', 'no such key');
        return { UserName: owner.name, AccessKeyLastUsed: key.lastUsed ? { LastUsedDate: key.lastUsed.date, ServiceName: key.lastUsed.service, Region: key.lastUsed.region } : { ServiceName: 'N/A', Region: 'N/A' } };
      },
      'iam:ListRoles': () => iamPage(s.roles, 'Roles', (r) => roleXml(r, false)),
      'iam:GetRole': () => {
        const r = role();
        if (!r) return void fail(404, 'NoSuchEntity', 'no such role');
        return { Role: roleXml(r, true) };
      },
      'iam:ListAttachedRolePolicies': ofRole('AttachedPolicies', (r) => r.attached, (a) => ({ PolicyArn: a, PolicyName: a.split('/').at(-1) })),
      'iam:ListRolePolicies': ofRole('PolicyNames', (r) => r.inline, (n) => n),
      'iam:GenerateCredentialReport': () => {
        this.reportPolls++;
        return { State: this.reportPolls > this.reportPollsBeforeReady ? 'COMPLETE' : this.reportPolls === 1 ? 'STARTED' : 'INPROGRESS', Description: 'fake' };
      },
      'iam:GetCredentialReport': () => ({ Content: Buffer.from(this.credentialReportCsv()).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: '2026-03-03T00:00:00Z' }),
      'ec2:DescribeInstances': () =>
        ec2Page(region.instances, 'reservationSet', (i) => ({
          reservationId: `r-${i.id.slice(2)}`,
          ownerId: s.account,
          instancesSet: [{ instanceId: i.id, imageId: 'ami-00000000', instanceState: { code: 16, name: i.state }, instanceType: i.type, launchTime: i.launched, tagSet: ec2Tags(i.tags) }],
        })),
      'ec2:DescribeSpotInstanceRequests': () => ec2Page(region.spot, 'spotInstanceRequestSet', (r) => ({ spotInstanceRequestId: r.id, state: r.state, createTime: r.created, instanceId: r.instanceId, launchSpecification: { instanceType: 'p3.16xlarge' } })),
      'ec2:DescribeImages': () => ec2Page(region.images, 'imagesSet', (im) => ({ imageId: im.id, name: im.name, imageState: 'available', creationDate: im.created, isPublic: false, imageOwnerId: s.account, architecture: 'x86_64' })),
      'ec2:DescribeVolumes': () => ec2Page(region.volumes, 'volumeSet', (v) => ({ volumeId: v.id, size: v.size, volumeType: 'gp3', status: v.state, createTime: v.created, attachmentSet: [], encrypted: false })),
      'ec2:DescribeSnapshots': () => ec2Page(region.snapshots, 'snapshotSet', (sn) => ({ snapshotId: sn.id, volumeId: 'vol-0123456789abcdef0', status: 'completed', startTime: sn.created, volumeSize: sn.size, ownerId: s.account })),
      'ec2:DescribeKeyPairs': () => ({ keySet: (region.keyPairs ?? []).map((k) => ({ keyName: k.name, keyPairId: 'key-0123456789abcdef0', keyType: 'rsa', createTime: k.created })) }),
      'ec2:DescribeLaunchTemplates': () => ec2Page(region.launchTemplates, 'launchTemplates', (lt) => ({ launchTemplateId: 'lt-0123456789abcdef0', launchTemplateName: lt.name, createTime: lt.created, createdBy: lt.createdBy, latestVersionNumber: 1 })),
      'autoscaling:DescribeAutoScalingGroups': () => {
        const p = this.page(region.groups ?? [], form.get('NextToken'));
        return {
          AutoScalingGroups: p.items.map((g) => ({ AutoScalingGroupName: g.name, AutoScalingGroupARN: `arn:aws:autoscaling:${req.region}:${s.account}:autoScalingGroup:x:autoScalingGroupName/${g.name}`, MinSize: 0, MaxSize: 20, DesiredCapacity: g.desired, CreatedTime: g.created, DefaultCooldown: 300, AvailabilityZones: [`${req.region}a`], HealthCheckType: 'EC2' })),
          ...(p.next ? { NextToken: p.next } : {}),
        };
      },
    };
  }

  private json(service: string, action: string, req: SeenRequest, res: ServerResponse): void {
    const call = `${service}:${action}`;
    if (this.refused(call, req.region, (status, code, message) => sendJsonError(res, status, code, message))) return;
    const input = JSON.parse(req.body || '{}') as Record<string, unknown>;
    const region = this.region(req);
    const s = this.state;
    const arn = (kind: string, name: string) => `arn:aws:${service}:${req.region}:${s.account}:${kind}/${name}`;
    const seconds = (iso: string) => Date.parse(iso) / 1000;
    switch (call) {
      case 'ecs:ListClusters': {
        const p = this.page(region.clusters ?? [], input['nextToken'] as string);
        return sendJson(res, 200, { clusterArns: p.items.map((c) => arn('cluster', c.name)), ...(p.next ? { nextToken: p.next } : {}) });
      }
      case 'ecs:DescribeClusters': {
        const wanted = new Set(input['clusters'] as string[]);
        return sendJson(res, 200, { clusters: (region.clusters ?? []).filter((c) => wanted.has(arn('cluster', c.name))).map((c) => ({ clusterArn: arn('cluster', c.name), clusterName: c.name, status: c.status, runningTasksCount: 3, activeServicesCount: 1, registeredContainerInstancesCount: 0 })), failures: [] });
      }
      case 'ecr:DescribeRepositories': {
        const p = this.page(region.repositories ?? [], input['nextToken'] as string);
        return sendJson(res, 200, { repositories: p.items.map((r) => ({ repositoryName: r.name, repositoryArn: arn('repository', r.name), registryId: s.account, createdAt: seconds(r.created), repositoryUri: `${s.account}.dkr.ecr.${req.region}.amazonaws.com/${r.name}` })), ...(p.next ? { nextToken: p.next } : {}) });
      }
      case 'lightsail:GetInstances': {
        const p = this.page(region.lightsail ?? [], input['pageToken'] as string);
        return sendJson(res, 200, { instances: p.items.map((i) => ({ name: i.name, arn: arn('Instance', i.name), state: { code: 16, name: i.state }, bundleId: 'xlarge_3_0', blueprintId: 'ubuntu_22_04', createdAt: seconds(i.created) })), ...(p.next ? { nextPageToken: p.next } : {}) });
      }
      case 'route53domains:ListDomains': {
        const p = this.page(s.domains ?? [], input['Marker'] as string);
        return sendJson(res, 200, { Domains: p.items.map((d) => ({ DomainName: d.name, AutoRenew: true, TransferLock: false, Expiry: seconds(d.expiry) })), ...(p.next ? { NextPageMarker: p.next } : {}) });
      }
      case 'sagemaker:ListNotebookInstances': {
        const p = this.page(region.notebooks ?? [], input['NextToken'] as string);
        return sendJson(res, 200, { NotebookInstances: p.items.map((n) => ({ NotebookInstanceName: n.name, NotebookInstanceArn: arn('notebook-instance', n.name), NotebookInstanceStatus: n.status, InstanceType: 'ml.p3.2xlarge', CreationTime: seconds(n.created), LastModifiedTime: seconds(n.created) })), ...(p.next ? { NextToken: p.next } : {}) });
      }
      default:
        return sendJsonError(res, 400, 'UnknownOperationException', `the fake does not answer ${call}`);
    }
  }

  private lambda(req: SeenRequest, res: ServerResponse): void {
    const layers = req.path.startsWith('/2018-10-31/layers');
    const call = layers ? 'lambda:ListLayers' : 'lambda:ListFunctions';
    if (this.refused(call, req.region, (status, code, message) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code === 'AccessDeniedException' ? 'AccessDeniedException' : 'TooManyRequestsException' });
      res.end(JSON.stringify({ message, Type: 'User' }));
    })) return;
    const region = this.region(req);
    const account = this.state.account;
    if (layers) {
      const p = this.page(region.layers ?? [], req.query.get('Marker'));
      return sendJson(res, 200, { Layers: p.items.map((l) => ({ LayerName: l.name, LayerArn: `arn:aws:lambda:${req.region}:${account}:layer:${l.name}`, LatestMatchingVersion: { Version: 1, CreatedDate: l.created } })), ...(p.next ? { NextMarker: p.next } : {}) });
    }
    const p = this.page(region.functions ?? [], req.query.get('Marker'));
    return sendJson(res, 200, { Functions: p.items.map((f) => ({ FunctionName: f.name, FunctionArn: `arn:aws:lambda:${req.region}:${account}:function:${f.name}`, Runtime: f.runtime, LastModified: f.modified, Role: `arn:aws:iam::${account}:role/lambda`, State: 'Active' })), ...(p.next ? { NextMarker: p.next } : {}) });
  }

  /** The credential report CSV, with the columns IAM writes (a shortened set), root first. */
  credentialReportCsv(): string {
    const header = 'user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active';
    const root = `<root_account>,arn:aws:iam::${this.state.account}:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,true,false,N/A,N/A,false`;
    const rows = this.state.users.map((u) => {
      const k = u.keys?.[0];
      return [u.name, `arn:aws:iam::${this.state.account}:user/${u.name}`, u.created, u.password ? 'true' : 'false', 'N/A', u.mfa?.length ? 'true' : 'false', k?.status === 'Active' ? 'true' : 'false', k?.created ?? 'N/A', k?.lastUsed?.date ?? 'N/A', 'false'].join(',');
    });
    return [header, root, ...rows].join('\n') + '\n';
  }
}
