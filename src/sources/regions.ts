/** Which regions to read: the account's enabled regions (EC2 DescribeRegions), or a given list. */
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { clientConfig, resolveHomeRegion, withRetries, type AwsFailure, type AwsOptions } from './aws.js';

/**
 * The regions enabled by default in every commercial account, used when DescribeRegions is
 * denied. Opt-in regions are left out: an account that enabled one must name it with --regions.
 */
export const DEFAULT_REGIONS = [
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
  'ca-central-1', 'eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'sa-east-1',
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
] as const;

/** The regions found, and the failure if DescribeRegions could not be used. */
export interface RegionList {
  readonly regions: readonly string[];
  readonly from: 'describe-regions' | 'default-list';
  readonly failure?: AwsFailure;
}

/**
 * Every region the account has enabled, from EC2 DescribeRegions (attackers use regions the
 * owner never did, so all of them); the default list when the call is denied or fails.
 */
export async function enabledRegions(options: AwsOptions, signal?: AbortSignal): Promise<RegionList> {
  const client = new EC2Client(clientConfig(options, await resolveHomeRegion(options)));
  try {
    const result = await withRetries(() => client.send(new DescribeRegionsCommand({ AllRegions: false }), signal ? { abortSignal: signal } : {}), {
      permission: 'ec2:DescribeRegions',
      maxAttempts: options.maxAttempts ?? 5,
      backoffMs: options.backoffMs ?? 500,
      ...(signal ? { signal } : {}),
    });
    if (!result.ok) return { regions: [...DEFAULT_REGIONS], from: 'default-list', failure: result.failure };
    const regions = (result.value.Regions ?? [])
      .filter((r) => r.RegionName && r.OptInStatus !== 'not-opted-in')
      .map((r) => r.RegionName!)
      .sort();
    return { regions, from: 'describe-regions' };
  } finally {
    client.destroy();
  }
}
