/**
 * The shape of an investigation: what `trailhound analyze` answers for a pivot, and what the
 * timeline and remediation plan are built from. Times are ISO-8601 UTC strings with seconds.
 */
import type { NowView } from '../snapshot/types.js';

/** What to follow: any mix of keys, addresses, principals and sessions, within a window. */
export interface PivotSpec {
  /** AKIA… or ASIA… access key ids. */
  readonly keys: readonly string[];
  /** IP addresses or CIDR blocks (v4 or v6). */
  readonly ips: readonly string[];
  /** Principal ARNs, IAM user names or role names. */
  readonly principals: readonly string[];
  /** ASIA… session keys or role session names. */
  readonly sessions: readonly string[];
  readonly since?: Date;
  readonly until?: Date;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** How many credential hops to follow (default 5). */
  readonly maxDepth?: number;
}

/** A name with how often it was seen. */
export interface Count {
  readonly name: string;
  readonly count: number;
}

/** A value seen over a span of time. */
export interface Sighting {
  readonly count: number;
  readonly first: string;
  readonly last: string;
}

/** What a credential or principal is. */
export type NodeKind =
  | 'access-key' // long-term AKIA key
  | 'session-key' // temporary ASIA key
  | 'user' // IAM user (created or given a password)
  | 'role' // IAM role (created, or its trust policy changed)
  | 'console-session' // a console sign-in
  | 'ip' // an address, when the pivot is an IP
  | 'principal'; // a principal given as the pivot

/** The event that made a credential or principal, or changed who can use it. */
export interface Origin {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  /** The node id of the credential that made the call. */
  readonly by: string;
  /** Who made the call: the principal's ARN, or the AWS service (`lambda.amazonaws.com`) for a service's call. */
  readonly invoker: string | null;
  readonly sourceIp: string | null;
  readonly account: string | null;
  readonly region: string | null;
}

/** Whether the attacker may still hold this credential, judged from the evidence alone. */
export interface Usability {
  readonly status: 'usable' | 'expired' | 'deactivated' | 'deleted' | 'unknown';
  /** One line on why, e.g. "expires 2026-11-20T12:00:00Z, after the evidence ends". */
  readonly reason: string;
  readonly expiresAt?: string;
}

/** One credential or principal in the lineage tree. */
export interface LineageNode {
  /** Stable id, e.g. `key:AKIA…`, `session:ASIA…`, `user:arn:aws:iam::…`, `role:arn:…`. */
  readonly id: string;
  readonly kind: NodeKind;
  /** The key id, ARN or address. */
  readonly label: string;
  /** The principal the credential acts as, when known. */
  readonly principalArn: string | null;
  readonly account: string | null;
  readonly depth: number;
  /** How it was obtained; null for a pivot given on the command line. */
  readonly origin: Origin | null;
  readonly eventCount: number;
  readonly errorCount: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  /** Its most frequent calls. */
  readonly eventNames: readonly Count[];
  readonly usability: Usability;
  /** For a role session: the role and the session name (null for other nodes, or when the record does not say). */
  readonly session: SessionFacts | null;
  readonly children: readonly LineageNode[];
}

/** What the minting call says of a session: the role assumed and the name the caller gave. */
export interface SessionFacts {
  readonly roleArn: string | null;
  readonly sessionName: string | null;
}

/** A key or principal that acted in the pivot's own events, e.g. from the address given with --ip. */
export interface Actor extends Sighting {
  readonly accessKeyId: string | null;
  readonly principalArn: string | null;
  /** The identity type: IAMUser, AssumedRole, Root, AWSService… */
  readonly identityType: string | null;
}

/** A key the pivot or its lineage minted or created. */
export interface DerivedKey {
  readonly accessKeyId: string;
  readonly kind: 'access-key' | 'session-key';
  readonly principalArn: string | null;
  readonly origin: Origin;
  readonly eventCount: number;
  readonly usability: Usability;
}

/** A principal, password or trust the lineage created or changed. */
export interface CreatedPrincipal {
  readonly kind: 'user' | 'login-profile' | 'role' | 'trust-policy' | 'access-key' | 'policy' | 'group-membership';
  /** User name, role name, policy ARN… */
  readonly name: string;
  readonly arn: string | null;
  readonly account: string | null;
  readonly origin: Origin;
  /** e.g. the outside principal a trust policy now trusts. */
  readonly detail: string | null;
}

/** A resource the pivot and its lineage created or changed. */
export interface ResourceChange {
  /** e.g. `ec2:instance`, `iam:policy`, `s3:bucket-policy`, `cloudtrail:trail`. */
  readonly kind: string;
  /** ARN, id or name. */
  readonly id: string;
  readonly action: string;
  readonly region: string | null;
  readonly account: string | null;
  readonly eventId: string;
  readonly eventTime: string;
  readonly detail: string | null;
}

/** Instances launched in one region and type, for the cost view. */
export interface LaunchCost {
  readonly region: string;
  readonly instanceType: string;
  readonly instances: number;
  readonly vcpus: number | null;
  readonly gpus: number | null;
}

export interface BlastRadius {
  readonly iam: readonly ResourceChange[];
  readonly compute: readonly ResourceChange[];
  readonly data: readonly ResourceChange[];
  readonly logging: readonly ResourceChange[];
  readonly other: readonly ResourceChange[];
  readonly cost: {
    readonly launches: readonly LaunchCost[];
    readonly quotaRequests: readonly ResourceChange[];
    readonly regionsEnabled: readonly ResourceChange[];
  };
}

/** Something the store did not see, so an empty answer is not read as "nothing happened". */
export interface CoverageGap {
  readonly kind: 'logging-stopped' | 'no-files' | 'input-skipped' | 'source-failure' | 'digest-missing' | 'file-modified' | 'records-rejected' | 'record-conflict';
  readonly account: string | null;
  readonly region: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly detail: string;
}

/** What the store covers for a window. */
export interface Coverage {
  readonly from: string | null;
  readonly to: string | null;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly events: number;
  /** Ingest sources, e.g. `local`, `s3`, `event-history`, `cloudwatch-logs`, `athena`. */
  readonly sources: readonly Count[];
  readonly gaps: readonly CoverageGap[];
}

/** One event of the pivot or its lineage. */
export interface LineageEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly accessKeyId: string | null;
  readonly principalArn: string | null;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
  readonly region: string | null;
  readonly account: string | null;
  readonly errorCode: string | null;
  /** The lineage node (credential) that made the call. */
  readonly credential: string;
}

/** The answer to `trailhound analyze`. */
export interface AnalyzeResult {
  readonly pivot: {
    readonly keys: readonly string[];
    readonly ips: readonly string[];
    readonly principals: readonly string[];
    readonly sessions: readonly string[];
    readonly since: string | null;
    readonly until: string | null;
    readonly accounts: readonly string[];
    readonly regions: readonly string[];
  };
  /** The pivot's own events (lineage excluded). */
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  readonly eventCount: number;
  readonly errorCount: number;
  /** AccessDenied / UnauthorizedOperation and the like: probing. */
  readonly accessDeniedCount: number;
  readonly services: readonly Count[];
  readonly eventNames: readonly (Count & { readonly errors: number })[];
  readonly errorCodes: readonly Count[];
  readonly ips: readonly (Sighting & { readonly ip: string } & AddressFacts)[];
  readonly userAgents: readonly (Sighting & { readonly userAgent: string; readonly class: string | null })[];
  /** `newForAccount`: the account had no event in this region before the pivot's first sighting. */
  readonly regions: readonly (Sighting & { readonly region: string; readonly newForAccount: boolean })[];
  readonly accounts: readonly Count[];
  /** The keys, sessions and principals of the pivot's own events, most active first. */
  readonly actors: readonly Actor[];
  /** Pivot values that matched nothing in the evidence (no event, no minting call), e.g. `key AKIA…`. */
  readonly unmatched: readonly string[];
  /** Roots: one per pivot value seen. */
  readonly lineage: readonly LineageNode[];
  readonly derivedKeys: readonly DerivedKey[];
  readonly createdPrincipals: readonly CreatedPrincipal[];
  readonly blastRadius: BlastRadius;
  readonly coverage: Coverage;
  /** The events of the whole lineage, by time. */
  readonly events: readonly LineageEvent[];
  /** True when `events` was cut at the limit asked for. */
  readonly eventsTruncated: boolean;
  /** The account as the newest snapshot saw it (local store only, when it holds a snapshot). */
  readonly now?: NowView;
}

/** What the offline databases say of an address (see src/enrich): owner, place, whether AWS holds it. */
export interface AddressFacts {
  readonly kind: string;
  readonly asn: number | null;
  readonly asOrg: string | null;
  readonly country: string | null;
  readonly city: string | null;
  readonly awsOwned: boolean;
  readonly hosting: string | null;
}
