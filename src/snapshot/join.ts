/**
 * The evidence joined with the account as a snapshot saw it: which credentials and resources
 * the lineage created still exist, and which resources exist that no event in the store
 * explains — created before the evidence starts, during a logging gap, in a region with no
 * events, or with no creating call at all: the things the logs cannot tell.
 */
import type { BlastRadius, Coverage, ResourceChange } from '../analyze/types.js';
import type { Store } from '../store/store.js';
import type { NowView, ResourceKind, SnapshotDocument, SnapshotResource, StillThere, Unexplained } from './types.js';

export type { NowView, StillThere, Unexplained };

export const UNEXPLAINED_LIMIT = 200;

/** The blast radius kinds that name a snapshot kind. */
const KIND_OF: Readonly<Record<string, ResourceKind>> = {
  'iam:user': 'iam:user',
  'iam:access-key': 'iam:access-key',
  'iam:role': 'iam:role',
  'ec2:instance': 'ec2:instance',
  'ec2:spot': 'ec2:spot-request',
  'ec2:launch-template': 'ec2:launch-template',
  'ec2:key-pair': 'ec2:key-pair',
  'ec2:snapshot': 'ec2:snapshot',
  'ec2:image': 'ec2:image',
  'autoscaling:group': 'autoscaling:group',
  'lambda:function': 'lambda:function',
  'lambda:layer': 'lambda:layer',
  'ecs:cluster': 'ecs:cluster',
  'ecr:repository': 'ecr:repository',
  'lightsail:instance': 'lightsail:instance',
  'sagemaker:resource': 'sagemaker:notebook',
  'route53domains:domain': 'route53domains:domain',
};

/** Calls that bring something into being (the rest of the blast radius changes what exists). */
const CREATES = /^(Create|Run|Request|Register|Publish|Import|Copy)/;
/** The calls whose records name what they created: what can explain a resource in the snapshot. */
// Plain names only: they are written into the query as literals.
export const CREATING_CALLS: readonly string[] = [
  'RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet', 'CreateImage', 'CopyImage', 'RegisterImage', 'CreateVolume', 'CreateSnapshot', 'CopySnapshot', 'CreateSnapshots',
  'CreateKeyPair', 'ImportKeyPair', 'CreateLaunchTemplate', 'CreateAutoScalingGroup', 'CreateCluster', 'CreateRepository', 'CreateFunction20150331', 'CreateFunction',
  'PublishLayerVersion20181031', 'PublishLayerVersion', 'CreateInstances', 'CreateInstancesFromSnapshot', 'RegisterDomain', 'TransferDomain', 'CreateNotebookInstance',
  'CreateUser', 'CreateAccessKey', 'CreateRole', 'CreateServiceLinkedRole',
];

if (!CREATING_CALLS.every((c) => /^[A-Za-z0-9]+$/.test(c))) throw new Error('CREATING_CALLS must hold plain event names');

const STOPPED = new Set(['terminated', 'shutting-down', 'cancelled', 'closed', 'failed', 'inactive', 'deleting', 'deregistered']);
const nameOf = (id: string) => (id.startsWith('arn:') ? (id.split(/[/:]/).at(-1) ?? id) : id);

/** Whether each created credential or resource still exists in the snapshot. */
export function stillThere(changes: readonly ResourceChange[], snap: SnapshotDocument): StillThere[] {
  const index = new Map<string, SnapshotResource>();
  for (const r of snap.resources) index.set(`${r.kind}|${r.region ?? ''}|${r.id}`, r);
  const out: StillThere[] = [];
  const seen = new Set<string>();
  for (const c of changes) {
    const kind = KIND_OF[c.kind];
    if (!kind || !CREATES.test(c.action)) continue;
    const global = kind.startsWith('iam:') || kind === 'route53domains:domain';
    const region = global ? null : c.region;
    const id = nameOf(c.id);
    const key = `${kind}|${region ?? ''}|${id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const found = index.get(key);
    const service = kind.split(':')[0]!;
    const readOk = (region === null || snap.regions.some((r) => r.name === region && r.scanned)) && !snap.gaps.some((g) => g.service === service && (g.region === region || g.region === null));
    const now = found ? (STOPPED.has((found.state ?? '').toLowerCase()) ? 'gone' : 'exists') : readOk ? 'gone' : 'unknown';
    out.push({ kind, id, region, action: c.action, eventId: c.eventId, now, state: found?.state ?? null });
  }
  return out;
}

/**
 * Resources in the snapshot that no creating call in the store names, each with the likeliest
 * reason the logs do not show it. AWS's own service-linked roles are left out.
 */
export async function unexplainedResources(store: Store, snapshotId: string, coverage: Coverage): Promise<{ list: Unexplained[]; total: number }> {
  const rows = await store.all<{ kind: ResourceKind; region: string | null; id: string; state: string | null; created: string | null; total: bigint | number }>(
    `with r as (
       select kind, region, id, state, coalesce(created_at, try_cast(detail->>'lastModified' as timestamptz)) as created
       from snapshot_resources
       where snapshot_id = $id and not (kind = 'iam:role' and coalesce(detail->>'path', '') like '/aws-service-role/%')
     ),
     created as materialized (
       -- The creating calls first, on the stored event name: their request and response are read
       -- from the record only for them (asking for them inside the join read every record).
       select coalesce(responseelements::varchar, '') || ' ' || coalesce(requestparameters::varchar, '') as body
       from events
       where eventname in (${CREATING_CALLS.map((c) => `'${c}'`).join(', ')}) and errorcode is null
     ),
     named as (
       select distinct r.id from r join created c on strpos(c.body, r.id) > 0
     )
     select kind, region, id, state, strftime(created, '%Y-%m-%dT%H:%M:%SZ') as created, count(*) over () as total
     from r where id not in (select id from named)
     order by region nulls first, kind, created nulls first, id
     limit ${UNEXPLAINED_LIMIT}`,
    { id: snapshotId },
  );
  const logged = new Set(coverage.regions);
  const gaps = coverage.gaps.filter((g) => g.kind === 'logging-stopped' && g.from);
  const why = (r: { region: string | null; created: string | null }): string => {
    const reasons: string[] = [];
    if (r.created && coverage.from && r.created < coverage.from) reasons.push(`before the evidence starts (${coverage.from})`);
    const gap = r.created ? gaps.find((g) => g.from! <= r.created! && (!g.to || r.created! <= g.to)) : undefined;
    if (gap) reasons.push(`while logging was stopped (${gap.from} to ${gap.to ?? 'the end of the evidence'})`);
    if (r.created && coverage.to && r.created > coverage.to) reasons.push(`after the evidence ends (${coverage.to})`);
    if (r.region && !logged.has(r.region)) reasons.push(`in ${r.region}, a region with no events in the evidence`);
    if (reasons.length === 0) reasons.push('no creating call in the evidence names it');
    return `${r.created ? `created ${r.created}` : 'no creation time'}: ${reasons.join('; ')}`;
  };
  return { list: rows.map((r) => ({ kind: r.kind, id: r.id, region: r.region, state: r.state, createdAt: r.created, why: why(r) })), total: Number(rows[0]?.total ?? 0) };
}

/** The changes of blast radii that can have created something a snapshot lists (IAM, compute, data). */
export function creatingChanges(radii: readonly BlastRadius[]): ResourceChange[] {
  return radii.flatMap((b) => [...b.iam, ...b.compute, ...b.data]);
}

/** The whole "now" view for a snapshot. */
export async function nowView(store: Store, snap: SnapshotDocument, changes: readonly ResourceChange[], coverage: Coverage, options: { readonly unexplained?: boolean } = {}): Promise<NowView> {
  const { list, total } = options.unexplained === false ? { list: [], total: null } : await unexplainedResources(store, snap.id, coverage);
  return { snapshot: { id: snap.id, takenAt: snap.takenAt, account: snap.account }, created: stillThere(changes, snap), unexplained: list, unexplainedTotal: total };
}
