/**
 * The blast radius: what the pivot and its lineage created or changed, grouped by kind, and
 * the crypto-mining cost view (instances by region and type, quota requests, regions enabled).
 */
import { field, jsonObject } from './derive.js';
import type { EventRow } from './source.js';
import type { BlastRadius, LaunchCost, ResourceChange } from './types.js';

type Group = 'iam' | 'compute' | 'data' | 'logging' | 'quota' | 'region';

/** Calls that change something, by group and the kind of resource they touch. */
const CHANGES: Record<string, readonly [Group, string]> = {};
function define(group: Group, kind: string, names: string): void {
  for (const name of names.trim().split(/\s+/)) CHANGES[name] = [group, kind];
}
define('iam', 'iam:user', 'CreateUser DeleteUser UpdateUser TagUser');
define('iam', 'iam:access-key', 'CreateAccessKey UpdateAccessKey DeleteAccessKey');
define('iam', 'iam:login-profile', 'CreateLoginProfile UpdateLoginProfile DeleteLoginProfile');
define('iam', 'iam:role', 'CreateRole DeleteRole UpdateAssumeRolePolicy UpdateRole CreateServiceLinkedRole');
define('iam', 'iam:policy', 'CreatePolicy CreatePolicyVersion SetDefaultPolicyVersion DeletePolicy AttachUserPolicy AttachRolePolicy AttachGroupPolicy PutUserPolicy PutRolePolicy PutGroupPolicy DetachUserPolicy DetachRolePolicy PutUserPermissionsBoundary DeleteUserPermissionsBoundary');
define('iam', 'iam:group', 'CreateGroup AddUserToGroup RemoveUserFromGroup DeleteGroup');
define('iam', 'iam:mfa', 'CreateVirtualMFADevice EnableMFADevice DeactivateMFADevice DeleteVirtualMFADevice');
define('iam', 'iam:identity-provider', 'CreateSAMLProvider UpdateSAMLProvider CreateOpenIDConnectProvider');
define('iam', 'iam:account', 'UpdateAccountPasswordPolicy DeleteAccountPasswordPolicy CreateAccountAlias');
define('iam', 'sso:permission-set', 'CreatePermissionSet AttachManagedPolicyToPermissionSet CreateAccountAssignment');
define('compute', 'ec2:instance', 'RunInstances StartInstances ModifyInstanceAttribute');
define('compute', 'ec2:spot', 'RequestSpotInstances RequestSpotFleet CreateFleet');
define('compute', 'ec2:launch-template', 'CreateLaunchTemplate CreateLaunchTemplateVersion');
define('compute', 'autoscaling:group', 'CreateAutoScalingGroup UpdateAutoScalingGroup CreateLaunchConfiguration');
define('compute', 'ec2:key-pair', 'CreateKeyPair ImportKeyPair');
define('compute', 'ec2:security-group', 'CreateSecurityGroup AuthorizeSecurityGroupIngress');
define('compute', 'lambda:function', 'CreateFunction CreateFunction20150331 UpdateFunctionCode UpdateFunctionCode20150331v2 UpdateFunctionConfiguration20150331v2 AddPermission20150331v2 CreateFunctionUrlConfig20211031');
define('compute', 'lambda:layer', 'PublishLayerVersion PublishLayerVersion20181031');
define('compute', 'ecs:cluster', 'CreateCluster RegisterTaskDefinition RunTask CreateService');
define('compute', 'ecr:repository', 'CreateRepository PutImage SetRepositoryPolicy');
define('compute', 'lightsail:instance', 'CreateInstances CreateInstancesFromSnapshot');
define('compute', 'sagemaker:resource', 'CreateNotebookInstance CreateTrainingJob CreateEndpoint CreateProcessingJob');
define('compute', 'batch:compute-environment', 'CreateComputeEnvironment SubmitJob');
define('compute', 'route53domains:domain', 'RegisterDomain TransferDomain');
define('compute', 'ses:identity', 'VerifyEmailIdentity VerifyDomainIdentity UpdateAccountSendingEnabled PutAccountDetails');
define('data', 'ec2:snapshot', 'CreateSnapshot CopySnapshot ModifySnapshotAttribute');
define('data', 'ec2:image', 'CreateImage CopyImage ModifyImageAttribute');
define('data', 'rds:snapshot', 'CreateDBSnapshot ModifyDBSnapshotAttribute CreateDBClusterSnapshot ModifyDBClusterSnapshotAttribute');
define('data', 's3:bucket', 'CreateBucket DeleteBucket PutBucketPolicy DeleteBucketPolicy PutBucketAcl PutBucketPublicAccessBlock DeleteBucketPublicAccessBlock PutBucketReplication PutBucketVersioning PutBucketLifecycle');
define('data', 's3:account', 'PutAccountPublicAccessBlock DeleteAccountPublicAccessBlock');
define('data', 'rds:instance', 'CreateDBInstance DeleteDBInstance ModifyDBInstance RestoreDBInstanceFromDBSnapshot RestoreDBInstanceToPointInTime CreateDBCluster DeleteDBCluster ModifyDBCluster RestoreDBClusterFromSnapshot');
define('data', 'dynamodb:table', 'DeleteTable UpdateTable DeleteBackup');
define('data', 'kms:key', 'ScheduleKeyDeletion DisableKey PutKeyPolicy CreateGrant');
define('data', 'secretsmanager:secret', 'PutResourcePolicy');
define('logging', 'cloudtrail:trail', 'StopLogging DeleteTrail UpdateTrail PutEventSelectors PutInsightSelectors');
define('logging', 'guardduty:detector', 'DeleteDetector UpdateDetector DisassociateFromMasterAccount DisassociateFromAdministratorAccount CreateFilter CreateIPSet UpdateIPSet');
define('logging', 'config:recorder', 'StopConfigurationRecorder DeleteConfigurationRecorder DeleteDeliveryChannel');
define('logging', 'ec2:flow-logs', 'DeleteFlowLogs');
define('logging', 'securityhub:hub', 'DisableSecurityHub BatchDisableStandards DeleteInsight');
define('logging', 'logs:log-group', 'DeleteLogGroup DeleteLogStream PutRetentionPolicy');
define('logging', 'access-analyzer:analyzer', 'DeleteAnalyzer');
define('logging', 'detective:graph', 'DeleteGraph');
define('quota', 'servicequotas:request', 'RequestServiceQuotaIncrease');
define('region', 'account:region', 'EnableRegion');

/** Calls made many times over one bucket or secret: data written, deleted or read. */
const BULK_CALLS: Record<string, string> = {
  PutObject: 's3:objects-written',
  CopyObject: 's3:objects-written',
  DeleteObject: 's3:objects-deleted',
  DeleteObjects: 's3:objects-deleted',
  GetObject: 's3:objects-read',
  GetSecretValue: 'secretsmanager:secret-read',
  GetParameter: 'ssm:parameter-read',
  GetParameters: 'ssm:parameter-read',
  // Container images pulled: the manifest, then each layer's download URL.
  BatchGetImage: 'ecr:image-pulled',
  GetDownloadUrlForLayer: 'ecr:image-pulled',
};

/** The read-only calls among them, whose request names the bucket, secret or parameter read. */
export const BULK_READS = ['GetObject', 'GetSecretValue', 'GetParameter', 'GetParameters', 'BatchGetImage', 'GetDownloadUrlForLayer'];

/** Reads the calls whose names say they only read. */
const READ_ONLY = /^(Get|List|Describe|Head|Lookup|Search|Select|Scan|Query|BatchGet|Check|Decrypt|Generate|Estimate|Preview|Simulate|Test|Validate|Verify|View|Download|ConsoleLogin|Assume|Switch|Filter)/;

/** Request/response fields that name the resource of a call, in the order they are tried. */
const ID_FIELDS = [
  ['responseElements', 'accessKey', 'accessKeyId'],
  ['requestParameters', 'accessKeyId'],
  ['requestParameters', 'policyArn'],
  ['requestParameters', 'userName'],
  ['requestParameters', 'roleName'],
  ['requestParameters', 'groupName'],
  ['requestParameters', 'policyName'],
  ['requestParameters', 'bucketName'],
  ['requestParameters', 'functionName'],
  ['requestParameters', 'layerName'],
  ['requestParameters', 'snapshotId'],
  ['requestParameters', 'imageId'],
  ['requestParameters', 'dBSnapshotIdentifier'],
  ['requestParameters', 'dBClusterSnapshotIdentifier'],
  ['requestParameters', 'dBInstanceIdentifier'],
  ['requestParameters', 'dBClusterIdentifier'],
  ['requestParameters', 'clusterIdentifier'],
  ['requestParameters', 'cacheClusterId'],
  ['requestParameters', 'replicationGroupId'],
  ['requestParameters', 'tableName'],
  ['requestParameters', 'fileSystemId'],
  ['requestParameters', 'stackName'],
  ['requestParameters', 'instanceId'],
  ['requestParameters', 'keyName'],
  ['requestParameters', 'groupId'],
  ['requestParameters', 'launchTemplateName'],
  ['requestParameters', 'autoScalingGroupName'],
  ['requestParameters', 'clusterName'],
  ['requestParameters', 'repositoryName'],
  ['requestParameters', 'notebookInstanceName'],
  ['requestParameters', 'trainingJobName'],
  ['requestParameters', 'domainName'],
  ['requestParameters', 'detectorId'],
  ['requestParameters', 'configurationRecorderName'],
  ['requestParameters', 'logGroupName'],
  ['requestParameters', 'keyId'],
  ['requestParameters', 'secretId'],
  ['requestParameters', 'serviceCode'],
  ['requestParameters', 'regionName'],
  ['requestParameters', 'name'],
  ['requestParameters', 'trailName'],
] as const;

/** A request field that names a resource by its key: `…Name`, `…Id`, `…Arn`, `…Identifier`, `…Url`. */
const NAMING_KEY = /(Name|Id|Arn|ARN|Identifier|Url)$/;

/** vCPUs and GPUs of the instance types used for mining, for the cost view. */
const INSTANCE_SHAPES: Record<string, readonly [number, number]> = {
  'p2.xlarge': [4, 1], 'p2.8xlarge': [32, 8], 'p2.16xlarge': [64, 16],
  'p3.2xlarge': [8, 1], 'p3.8xlarge': [32, 4], 'p3.16xlarge': [64, 8], 'p3dn.24xlarge': [96, 8],
  'p4d.24xlarge': [96, 8], 'p4de.24xlarge': [96, 8], 'p5.48xlarge': [192, 8],
  'g3.4xlarge': [16, 1], 'g3.8xlarge': [32, 2], 'g3.16xlarge': [64, 4],
  'g4dn.xlarge': [4, 1], 'g4dn.2xlarge': [8, 1], 'g4dn.4xlarge': [16, 1], 'g4dn.8xlarge': [32, 1], 'g4dn.12xlarge': [48, 4], 'g4dn.16xlarge': [64, 1], 'g4dn.metal': [96, 8],
  'g5.xlarge': [4, 1], 'g5.2xlarge': [8, 1], 'g5.4xlarge': [16, 1], 'g5.8xlarge': [32, 1], 'g5.12xlarge': [48, 4], 'g5.16xlarge': [64, 1], 'g5.24xlarge': [96, 4], 'g5.48xlarge': [192, 8],
  'g6.xlarge': [4, 1], 'g6.12xlarge': [48, 4], 'g6.48xlarge': [192, 8],
};
const SIZE_VCPUS: Record<string, number> = {
  nano: 2, micro: 2, small: 2, medium: 2, large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32, '9xlarge': 36,
  '12xlarge': 48, '16xlarge': 64, '18xlarge': 72, '24xlarge': 96, '32xlarge': 128, '48xlarge': 192, metal: 96,
};

/** vCPU and GPU counts of an instance type; vCPUs guessed from the size for CPU families, GPUs null when unknown. */
export function instanceShape(type: string): { vcpus: number | null; gpus: number | null } {
  const known = INSTANCE_SHAPES[type];
  if (known) return { vcpus: known[0], gpus: known[1] };
  const [family = '', size = ''] = type.split('.');
  const gpuFamily = /^(p|g|inf|trn|dl|f)\d/.test(family);
  return { vcpus: SIZE_VCPUS[size] ?? null, gpus: gpuFamily ? null : 0 };
}

/** The resource a call touched, as the request or response names it. */
export function resourceId(event: EventRow): string | null {
  const parts = { requestParameters: jsonObject(event.requestParameters), responseElements: jsonObject(event.responseElements) };
  for (const [where, ...path] of ID_FIELDS) {
    const value = field(parts[where], ...path);
    if (value) return value;
  }
  // Any other service: the first top-level request field that names something.
  for (const [key, value] of Object.entries(parts.requestParameters ?? {})) {
    if (typeof value === 'string' && value && NAMING_KEY.test(key)) return value;
  }
  return null;
}

interface Launched {
  readonly id: string;
  readonly type: string;
}

/** The instances a RunInstances response lists (or, when it lists none, the requested count and type). */
export function launchedInstances(event: EventRow): Launched[] {
  const response = jsonObject(event.responseElements);
  const items = (response?.['instancesSet'] as { items?: unknown } | undefined)?.items;
  if (Array.isArray(items) && items.length > 0) {
    return items.map((item, i) => {
      const it = (item ?? {}) as Record<string, unknown>;
      return { id: typeof it['instanceId'] === 'string' ? it['instanceId'] : `${event.eventId}#${i}`, type: typeof it['instanceType'] === 'string' ? it['instanceType'] : 'unknown' };
    });
  }
  const request = jsonObject(event.requestParameters);
  const first = ((request?.['instancesSet'] as { items?: unknown[] } | undefined)?.items?.[0] ?? null) as Record<string, unknown> | null;
  const type = field(request, 'instanceType') ?? 'unknown';
  const count = Number(field(first, 'minCount') ?? field(request, 'minCount') ?? 1) || 1;
  return Array.from({ length: count }, (_, i) => ({ id: `${event.eventId}#${i}`, type }));
}

/** Groups the successful changing calls of the lineage into the blast radius. */
export function blastRadius(events: readonly EventRow[]): BlastRadius {
  const groups: Record<'iam' | 'compute' | 'data' | 'logging' | 'other', ResourceChange[]> = { iam: [], compute: [], data: [], logging: [], other: [] };
  const quotaRequests: ResourceChange[] = [];
  const regionsEnabled: ResourceChange[] = [];
  const launches = new Map<string, { region: string; instanceType: string; instances: number }>();
  const bulk = new Map<string, { change: Omit<ResourceChange, 'detail'>; count: number }>();
  for (const event of events) {
    if (event.errorCode) continue;
    const many = BULK_CALLS[event.eventName];
    if (many) {
      // Object and secret calls come by the hundred: one line per bucket (or secret) and call.
      const id = resourceId(event) ?? '(not named in the record)';
      const key = `${event.account}|${event.region}|${event.eventName}|${id}`;
      const entry = bulk.get(key) ?? {
        change: { kind: many, id, action: event.eventName, region: event.region, account: event.account, eventId: event.eventId, eventTime: event.eventTime },
        count: 0,
      };
      entry.count++;
      bulk.set(key, entry);
      continue;
    }
    const known = CHANGES[event.eventName];
    if (!known && READ_ONLY.test(event.eventName)) continue;
    const [group, kind] = known ?? (['other', `${event.eventSource.split('.')[0]}:${event.eventName}`] as const);
    const base = { action: event.eventName, region: event.region, account: event.account, eventId: event.eventId, eventTime: event.eventTime };
    if (event.eventName === 'RunInstances') {
      for (const instance of launchedInstances(event)) {
        groups.compute.push({ ...base, kind, id: instance.id, detail: instance.type });
        const key = `${event.region}|${instance.type}`;
        const entry = launches.get(key) ?? { region: event.region ?? 'unknown', instanceType: instance.type, instances: 0 };
        entry.instances++;
        launches.set(key, entry);
      }
      continue;
    }
    const change: ResourceChange = { ...base, kind, id: resourceId(event) ?? '(not named in the record)', detail: detailOf(event) };
    if (group === 'quota') quotaRequests.push(change);
    else if (group === 'region') regionsEnabled.push(change);
    else groups[group].push(change);
  }
  for (const { change, count } of bulk.values()) groups.data.push({ ...change, detail: `${count} ${change.action} call${count === 1 ? '' : 's'}, the first shown` });
  const costs: LaunchCost[] = [...launches.values()]
    .map((l) => {
      const shape = instanceShape(l.instanceType);
      return { ...l, vcpus: shape.vcpus === null ? null : shape.vcpus * l.instances, gpus: shape.gpus === null ? null : shape.gpus * l.instances };
    })
    .sort((a, b) => a.region.localeCompare(b.region) || a.instanceType.localeCompare(b.instanceType));
  return { ...groups, cost: { launches: costs, quotaRequests, regionsEnabled } };
}

/** A short detail for a change: the quota asked for, the account a snapshot was shared with, … */
function detailOf(event: EventRow): string | null {
  const request = jsonObject(event.requestParameters);
  switch (event.eventName) {
    case 'RequestServiceQuotaIncrease':
      return `${field(request, 'quotaCode') ?? '?'} to ${field(request, 'desiredValue') ?? '?'}`;
    case 'ModifySnapshotAttribute':
    case 'ModifyImageAttribute':
    case 'ModifyDBSnapshotAttribute': {
      const text = event.requestParameters ?? '';
      const accounts = [...new Set(text.match(/\b\d{12}\b/g) ?? [])];
      // The same call removes sharing: `remove` lists, `valuesToRemove` or operationType remove.
      if (/"(remove|valuesToRemove)"\s*:/.test(text) && !/"(add|valuesToAdd)"\s*:/.test(text) || /"operationType"\s*:\s*"remove"/i.test(text)) return accounts.length ? `sharing with ${accounts.join(', ')} removed` : 'sharing removed';
      const everyone = /"group"\s*:\s*"all"|"valuesToAdd"\s*:\s*\[[^\]]*"all"/i.test(text);
      return everyone ? 'shared publicly' : accounts.length ? `shared with ${accounts.join(', ')}` : null;
    }
    case 'UpdateAccessKey':
      return field(request, 'status');
    default:
      return null;
  }
}
