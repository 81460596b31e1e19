/**
 * Every AWS call `trailhound snapshot` makes, and how a failed one becomes a gap. The list is
 * the IAM policy the README gives; a test asserts no other call is ever sent. All are reads
 * (GenerateCredentialReport only asks IAM to build the report it then reads).
 */
import type { AwsFailure } from '../sources/aws.js';
import type { SnapshotGap } from './types.js';

export const SNAPSHOT_CALLS = [
  'sts:GetCallerIdentity',
  'ec2:DescribeRegions',
  'iam:ListUsers',
  'iam:GetLoginProfile',
  'iam:ListMFADevices',
  'iam:ListGroupsForUser',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:ListRoles',
  'iam:GetRole',
  'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'ec2:DescribeInstances',
  'ec2:DescribeSpotInstanceRequests',
  'ec2:DescribeImages',
  'ec2:DescribeVolumes',
  'ec2:DescribeSnapshots',
  'ec2:DescribeKeyPairs',
  'ec2:DescribeLaunchTemplates',
  'autoscaling:DescribeAutoScalingGroups',
  'ecs:ListClusters',
  'ecs:DescribeClusters',
  'ecr:DescribeRepositories',
  'lambda:ListFunctions',
  'lambda:ListLayers',
  'lightsail:GetInstances',
  'route53domains:ListDomains',
  'sagemaker:ListNotebookInstances',
] as const;
export type SnapshotCall = (typeof SNAPSHOT_CALLS)[number];

/** The regions Lightsail is offered in: elsewhere its endpoint does not exist, which is no gap. */
export const LIGHTSAIL_REGIONS: ReadonlySet<string> = new Set([
  'us-east-1', 'us-east-2', 'us-west-2', 'ca-central-1', 'eu-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1',
  'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3',
]);

/** Route 53 domains are global and served from us-east-1 only. */
export const ROUTE53_DOMAINS_REGION = 'us-east-1';

/** A gap for a failed call. */
export function gapOf(call: SnapshotCall, region: string | null, failure: AwsFailure): SnapshotGap {
  return { service: call.split(':')[0]!, region, call, reason: failure.reason };
}
