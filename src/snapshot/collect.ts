/**
 * `trailhound snapshot`: the account as it stands, read-only. Who is calling (STS), which
 * regions exist and which are enabled (DescribeRegions with opt-in status), IAM and the
 * credential report, then every service of every enabled region — even regions the account
 * never used, where attackers like to launch. A denied or failed read is a gap, never the end.
 */
import { randomBytes } from 'node:crypto';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mapLimit } from '../core/pool.js';
import { isoSeconds } from '../core/time.js';
import { toolVersion } from '../core/version.js';
import { AwsCredentialsError, checkProfile, clientConfig, resolveHomeRegion } from '../sources/aws.js';
import { DEFAULT_REGIONS } from '../sources/regions.js';
import { gapOf, ROUTE53_DOMAINS_REGION } from './calls.js';
import { SnapshotContext, type SnapshotSettings } from './context.js';
import { collectIam, credentialReport } from './iam.js';
import { REGIONAL_READERS } from './regional.js';
import { SNAPSHOT_FORMAT, type SnapshotDocument, type SnapshotRegion, type SnapshotResource } from './types.js';

export type { SnapshotSettings, SnapshotProgress } from './context.js';

/** Takes a snapshot of the account the credentials belong to. */
export async function takeSnapshot(settings: SnapshotSettings, now: () => Date = () => new Date()): Promise<SnapshotDocument> {
  checkProfile(settings);
  const started = now();
  const t0 = performance.now();
  const ctx = new SnapshotContext(settings);
  const home = await resolveHomeRegion(settings);

  const sts = new STSClient(clientConfig(settings, home));
  let account: string | null = null;
  let callerArn: string | null = null;
  try {
    const who = await ctx.try('sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    if (!who.ok) {
      // Without an identity nothing else will answer: say so rather than record forty gaps.
      if (who.failure.kind === 'credentials' || who.failure.kind === 'expired') throw new AwsCredentialsError(who.failure.reason, { cause: who.error });
      ctx.gaps.push(gapOf('sts:GetCallerIdentity', null, who.failure));
    } else {
      account = who.value.Account ?? null;
      callerArn = who.value.Arn ?? null;
    }
  } finally {
    sts.destroy();
  }

  const regions = await accountRegions(ctx, home);
  const scanned = new Set(regions.filter((r) => r.scanned).map((r) => r.name));

  const resources: SnapshotResource[] = [];
  const progress = (region: string | null, service: string, found: number, gapsBefore: number, since: number) =>
    settings.onProgress?.({ region, service, resources: found, gaps: ctx.gaps.length - gapsBefore, ms: Math.round(performance.now() - since) });

  const iam = new IAMClient(clientConfig(settings, home));
  let report: SnapshotDocument['credentialReport'] = null;
  try {
    const since = performance.now();
    const gapsBefore = ctx.gaps.length;
    const [principals, rows] = await Promise.all([collectIam(ctx, iam), credentialReport(ctx, iam)]);
    resources.push(...principals);
    report = rows;
    progress(null, 'iam', principals.length, gapsBefore, since);
  } finally {
    iam.destroy();
  }

  // Domains are global, served from us-east-1 whichever regions are read.
  const tasks = [
    ...[...scanned].sort().flatMap((region) => REGIONAL_READERS.filter((r) => r.service !== 'route53domains' && r.offeredIn(region)).map((reader) => ({ region, reader }))),
    ...REGIONAL_READERS.filter((r) => r.service === 'route53domains').map((reader) => ({ region: ROUTE53_DOMAINS_REGION, reader })),
  ];
  const found = await mapLimit(tasks, settings.concurrency ?? 6, async ({ region, reader }) => {
    if (settings.signal?.aborted) return [];
    const since = performance.now();
    const gapsBefore = ctx.gaps.length;
    const rows = await reader.read(ctx, region);
    progress(reader.service === 'route53domains' ? null : region, reader.service, rows.length, gapsBefore, since);
    return rows;
  });
  for (const rows of found) resources.push(...rows);
  if (settings.signal?.aborted) ctx.gaps.push({ service: 'snapshot', region: null, call: 'snapshot', reason: 'interrupted before every region was read; take the snapshot again' });

  const finished = now();
  return {
    format: SNAPSHOT_FORMAT,
    version: 1,
    id: `${isoSeconds(started).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`,
    takenAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    account,
    callerArn,
    toolVersion: toolVersion(),
    calls: ctx.calls,
    regions,
    resources,
    gaps: ctx.gaps,
    credentialReport: report,
  };
}

/**
 * Every region with its opt-in status (AllRegions, so that a region that is not enabled is
 * named as such); those enabled are read, or those given with --region. When DescribeRegions
 * fails: the regions given, else the default list, with the failure as a gap.
 */
async function accountRegions(ctx: SnapshotContext, home: string): Promise<SnapshotRegion[]> {
  const ec2 = new EC2Client(clientConfig(ctx.settings, home));
  try {
    const wanted = ctx.settings.regions && ctx.settings.regions.length > 0 ? new Set(ctx.settings.regions) : null;
    const listed = await ctx.one('ec2:DescribeRegions', null, () => ec2.send(new DescribeRegionsCommand({ AllRegions: true })));
    if (!listed) return [...(wanted ?? DEFAULT_REGIONS)].sort().map((name) => ({ name, optInStatus: null, scanned: true }));
    const regions = (listed.Regions ?? [])
      .filter((r) => r.RegionName)
      .map((r) => ({ name: r.RegionName!, optInStatus: r.OptInStatus ?? null, scanned: r.OptInStatus !== 'not-opted-in' && (!wanted || wanted.has(r.RegionName!)) }));
    // A region asked for that DescribeRegions does not list is still read (and fails there if it does not exist).
    for (const name of wanted ?? []) if (!regions.some((r) => r.name === name)) regions.push({ name, optInStatus: null, scanned: true });
    return regions.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    ec2.destroy();
  }
}
