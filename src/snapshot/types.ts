/**
 * A snapshot of an account's live state: what exists now, read with read-only calls, so that
 * the evidence (what the logs say was created) can be joined with what is still there. One
 * uniform row per resource; what is particular to a kind is in `detail`.
 */

/** The kinds of resource a snapshot records, `service:type`. */
export const RESOURCE_KINDS = [
  'iam:user',
  'iam:access-key',
  'iam:role',
  'ec2:instance',
  'ec2:spot-request',
  'ec2:image',
  'ec2:volume',
  'ec2:snapshot',
  'ec2:key-pair',
  'ec2:launch-template',
  'autoscaling:group',
  'ecs:cluster',
  'ecr:repository',
  'lambda:function',
  'lambda:layer',
  'lightsail:instance',
  'route53domains:domain',
  'sagemaker:notebook',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** One resource as the snapshot saw it. */
export interface SnapshotResource {
  readonly kind: ResourceKind;
  /** null for global resources (IAM, Route 53 domains). */
  readonly region: string | null;
  /** The id a responder types: an access key id, an instance id, a user or function name. */
  readonly id: string;
  readonly arn: string | null;
  readonly name: string | null;
  /** The state the API reports (Active, running, stopped, ACTIVE, InService…), or null when it has none. */
  readonly state: string | null;
  /** Type or size (instance type, volume size, runtime). */
  readonly type: string | null;
  readonly createdAt: string | null;
  /** The principal that created it, where the API says (a launch template's CreatedBy, say). */
  readonly creator: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** What is particular to the kind: a user's policies and groups, a key's last use, a role's trust policy. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A region or service the snapshot could not see: its absence from the snapshot proves nothing. */
export interface SnapshotGap {
  /** The service, e.g. `ec2`, `iam`. */
  readonly service: string;
  /** null for global services. */
  readonly region: string | null;
  /** The call that failed, e.g. `ec2:DescribeInstances`. */
  readonly call: string;
  readonly reason: string;
}

/** A region of the account and whether the snapshot read it. */
export interface SnapshotRegion {
  readonly name: string;
  /** DescribeRegions' OptInStatus: opt-in-not-required, opted-in, not-opted-in. */
  readonly optInStatus: string | null;
  readonly scanned: boolean;
}

/** The `snapshot --out` document, which `ingest FILE` loads on another machine. */
export interface SnapshotDocument {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: 1;
  /** Unique per snapshot: its start time and a random suffix. */
  readonly id: string;
  readonly takenAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly account: string | null;
  /** Who took it (GetCallerIdentity's ARN). */
  readonly callerArn: string | null;
  readonly toolVersion: string;
  readonly calls: number;
  readonly regions: readonly SnapshotRegion[];
  readonly resources: readonly SnapshotResource[];
  readonly gaps: readonly SnapshotGap[];
  /** The IAM credential report, one object per row (the CSV's columns), or null when it could not be read. */
  readonly credentialReport: ReadonlyArray<Readonly<Record<string, string>>> | null;
}

export const SNAPSHOT_FORMAT = 'trailhound-snapshot';

/** The AWS quarantine policies: AWS attaches them to a user when it finds the user's key exposed. */
export const QUARANTINE_POLICIES = ['AWSCompromisedKeyQuarantine', 'AWSCompromisedKeyQuarantineV2', 'AWSCompromisedKeyQuarantineV3', 'AWSExposedCredentialPolicy_DO_NOT_REMOVE'] as const;

/** Whether a policy ARN or name is one of AWS's quarantine policies. */
export function isQuarantinePolicy(arnOrName: string): boolean {
  const name = arnOrName.split('/').at(-1) ?? arnOrName;
  return (QUARANTINE_POLICIES as readonly string[]).includes(name);
}

/** The snapshot a plan was joined with, as the plan names it. */
export interface SnapshotRef {
  readonly id: string;
  readonly takenAt: string;
  readonly account: string | null;
}

/** A credential or resource the evidence shows created, and whether it is still there. */
export interface StillThere {
  readonly kind: string;
  readonly id: string;
  readonly region: string | null;
  /** The call that created it. */
  readonly action: string;
  readonly eventId: string;
  /** `exists` (with its state), `gone` (a complete read did not list it, or it is terminated), `unknown` (the read failed). */
  readonly now: 'exists' | 'gone' | 'unknown';
  readonly state: string | null;
}

/** A resource in the snapshot that no event in the store explains. */
export interface Unexplained {
  readonly kind: ResourceKind;
  readonly id: string;
  readonly region: string | null;
  readonly state: string | null;
  readonly createdAt: string | null;
  readonly why: string;
}

/** The "now" view that analyze and the timeline show. */
export interface NowView {
  readonly snapshot: SnapshotRef;
  readonly created: readonly StillThere[];
  /** The first of them (at most `UNEXPLAINED_LIMIT`), oldest region and kind first. */
  readonly unexplained: readonly Unexplained[];
  /** null when the list was not asked for (it reads the record of every creating call in the store). */
  readonly unexplainedTotal: number | null;
}
