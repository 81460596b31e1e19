/**
 * Building aws-cli commands from values an attacker chose (user names, tags, ids). Every
 * value is checked against the grammar AWS gives for its kind and goes into the command as
 * one `--option=value` word, single-quoted when it holds anything but plain characters, so
 * it can never become a flag (`--profile=evil`), a second word or shell code. A value that
 * does not fit gives no command at all, and says which check it failed.
 */
import type { RejectedValue } from './types.js';

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const IAM_NAME = '[\\w+=,.@-]';
const ECS_NAME = '[a-zA-Z0-9_-]{1,255}';
const TRAIL_NAME = '[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9])){2,127}';

const exact = (source: string, flags = '') => new RegExp(`^(?:${source})$`, flags);
const arn = (service: string, resource: string, { region = true, account = '\\d{12}' } = {}) => `arn:${PARTITION}:${service}:${region ? REGION : ''}:${account}:${resource}`;
/** EC2's ids: a prefix and 8 hex digits, or 17 since the longer ids of 2016. */
const ec2Id = (prefix: string) => exact(`${prefix}-[0-9a-f]{8}(?:[0-9a-f]{9})?`);

/**
 * The kinds of value a command takes, each with its name for people and the grammar AWS
 * documents for it (API reference patterns and length limits, or the ids AWS issues).
 */
export const KINDS = {
  accessKeyId: { what: 'access key id', shape: /^(?:AKIA|ASIA)[A-Z0-9]{16}$/ },
  accountId: { what: 'AWS account id', shape: /^\d{12}$/ },
  region: { what: 'AWS region', shape: exact(REGION) },
  iamUserName: { what: 'IAM user name', shape: exact(`${IAM_NAME}{1,64}`) },
  iamRoleName: { what: 'IAM role name', shape: exact(`${IAM_NAME}{1,64}`) },
  iamGroupName: { what: 'IAM group name', shape: exact(`${IAM_NAME}{1,128}`) },
  iamPolicyName: { what: 'IAM policy name', shape: exact(`${IAM_NAME}{1,128}`) },
  iamPolicyArn: { what: 'IAM policy ARN', shape: exact(arn('iam', `policy/(?:${IAM_NAME}+/)*${IAM_NAME}{1,128}`, { region: false, account: '(?:\\d{12}|aws)' })) },
  iamPolicyVersionId: { what: 'IAM policy version id', shape: /^v[1-9]\d*(?:\.[A-Za-z0-9-]*)?$/ },
  iamSamlProviderArn: { what: 'IAM SAML provider ARN', shape: exact(arn('iam', 'saml-provider/[\\w.-]{1,128}', { region: false })) },
  iamOidcProviderArn: { what: 'IAM OIDC provider ARN', shape: exact(arn('iam', 'oidc-provider/[A-Za-z0-9.-]{1,253}(?:/[\\w.~-]+)*', { region: false })) },
  iamServiceSpecificCredentialId: { what: 'service-specific credential id', shape: /^\w{20,128}$/ },
  iamSshPublicKeyId: { what: 'SSH public key id', shape: /^\w{20,128}$/ },
  iamSigningCertificateId: { what: 'signing certificate id', shape: /^\w{24,128}$/ },
  ec2InstanceId: { what: 'EC2 instance id', shape: ec2Id('i') },
  ec2SnapshotId: { what: 'EBS snapshot id', shape: ec2Id('snap') },
  ec2ImageId: { what: 'AMI id', shape: ec2Id('ami') },
  // Spot request ids are 8 lowercase letters and digits (sir-pzegskqj), not hex.
  ec2SpotRequestId: { what: 'Spot Instance request id', shape: /^sir-(?:[0-9a-z]{8}|[0-9a-f]{17})$/ },
  ec2SpotFleetRequestId: { what: 'Spot Fleet request id', shape: exact(`sfr-${UUID}`) },
  ec2FleetId: { what: 'EC2 Fleet id', shape: exact(`fleet-${UUID}`) },
  ec2KeyPairName: { what: 'EC2 key pair name', shape: /^[\x20-\x7e]{1,255}$/ },
  ec2LaunchTemplateName: { what: 'launch template name', shape: /^[a-zA-Z0-9()./_-]{3,128}$/ },
  // "Any ASCII character 33 to 126 … You cannot use a colon (:) in the name."
  autoScalingGroupName: { what: 'Auto Scaling group name', shape: /^[\x21-\x39\x3b-\x7e]{1,255}$/ },
  launchConfigurationName: { what: 'launch configuration name', shape: /^[\x21-\x39\x3b-\x7e]{1,255}$/ },
  lambdaFunctionName: { what: 'Lambda function name', shape: exact(`[a-zA-Z0-9_-]{1,64}|${arn('lambda', 'function:[a-zA-Z0-9_-]{1,64}')}`) },
  lambdaLayerName: { what: 'Lambda layer name', shape: exact(`[a-zA-Z0-9_-]{1,140}|${arn('lambda', 'layer:[a-zA-Z0-9_-]{1,140}')}`) },
  lambdaLayerVersion: { what: 'Lambda layer version number', shape: /^[1-9]\d{0,15}$/ },
  ecsCluster: { what: 'ECS cluster name or ARN', shape: exact(`${ECS_NAME}|${arn('ecs', `cluster/${ECS_NAME}`)}`) },
  ecsServiceArn: { what: 'ECS service ARN', shape: exact(arn('ecs', `service/(?:${ECS_NAME}/)?${ECS_NAME}`)) },
  ecsTaskArn: { what: 'ECS task ARN', shape: exact(arn('ecs', `task/(?:${ECS_NAME}/)?(?:[0-9a-f]{32}|${UUID})`)) },
  ecsTaskDefinitionArn: { what: 'ECS task definition ARN', shape: exact(arn('ecs', `task-definition/${ECS_NAME}:\\d{1,10}`)) },
  ecrRepositoryName: { what: 'ECR repository name', shape: /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/ },
  lightsailInstanceName: { what: 'Lightsail instance name', shape: /^(?=.{2,255}$)\w[\w-]*\w$/ },
  sageMakerName: { what: 'SageMaker resource name', shape: /^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$/ },
  domainName: { what: 'domain name', shape: /^(?=.{1,255}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i },
  cloudTrailTrail: { what: 'CloudTrail trail name or ARN', shape: exact(`${TRAIL_NAME}|${arn('cloudtrail', `trail/${TRAIL_NAME}`)}`) },
  guardDutyDetectorId: { what: 'GuardDuty detector id', shape: /^[0-9a-f]{32}$/ },
  guardDutyFilterName: { what: 'GuardDuty filter name', shape: /^[\w.-]{3,64}$/ },
  configRecorderName: { what: 'AWS Config recorder name', shape: /^[\x21-\x7e]{1,256}$/ },
  eventBridgeRuleName: { what: 'EventBridge rule name', shape: /^[\w.-]{1,64}$/ },
  kmsKeyId: { what: 'KMS key id or ARN', shape: exact(`${UUID}|mrk-[0-9a-f]{32}|${arn('kms', `key/(?:${UUID}|mrk-[0-9a-f]{32})`)}`) },
  kmsGrantId: { what: 'KMS grant id', shape: /^[0-9a-f]{64}$/ },
  rdsSnapshotId: { what: 'RDS snapshot identifier', shape: /^(?=.{1,255}$)[a-zA-Z](?:-?[a-zA-Z0-9])*$/ },
  rdsRestoreValue: { what: 'AWS account id or all', shape: /^(?:\d{12}|all)$/ },
  // S3's rules: 3-63 of a-z 0-9 . -, a letter or digit at each end, no "..", not an IP address, no reserved prefix or suffix.
  s3BucketName: { what: 'S3 bucket name', shape: /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)(?!.*(?:-s3alias|--ol-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ },
} as const satisfies Record<string, { readonly what: string; readonly shape: RegExp }>;

/** A kind of value a command takes. */
export type Kind = keyof typeof KINDS;

/** A value from the logs for `--option`: one value, or a list (rendered as a JSON array), and its kind. */
export type Arg = readonly [option: `--${string}`, value: string | null | undefined | readonly string[], kind: Kind];

/** A command, or null with the value that kept it from being made (none when a value was missing). */
export interface Built {
  readonly command: string | null;
  readonly rejected?: RejectedValue;
}

// aws-cli reads a parameter that starts with one of these from a file or URL instead of taking it as it is.
const PARAM_FILE = /^(?:file|fileb|https?):\/\//i;

/** Whether `value` fits the grammar of `kind`; nothing that starts with `-` or names a file or URL does. */
export function fits(value: string | null | undefined, kind: Kind): value is string {
  return typeof value === 'string' && value.length <= 2048 && !value.startsWith('-') && !PARAM_FILE.test(value) && KINDS[kind].shape.test(value);
}

/** Single-quotes a word for POSIX sh (a word of plain characters stays as it is). */
export function shQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command from a template of literal words and values from the logs; each value must fit
 * its kind, or there is no command and `rejected` says which value failed which check.
 * @example command(['aws iam delete-user', ['--user-name', 'backup-admin', 'iamUserName']]) // { command: 'aws iam delete-user --user-name=backup-admin' }
 */
export function command(parts: ReadonlyArray<string | Arg>): Built {
  const words: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      words.push(part);
      continue;
    }
    const [option, value, kind] = part;
    const values = typeof value === 'string' ? [value] : (value ?? []);
    if (values.length === 0) return { command: null };
    const bad = values.find((v) => !fits(v, kind));
    if (bad !== undefined) return { command: null, rejected: { value: bad, kind: KINDS[kind].what } };
    // aws-cli takes a JSON array for any list parameter; `--option=[…]` keeps the list one word.
    words.push(`${option}=${shQuote(values.length === 1 ? values[0]! : JSON.stringify(values))}`);
  }
  return { command: words.join(' ') };
}
