/**
 * The regional resources AWS's guidance for a compromised account names: EC2 instances (stopped
 * ones too), Spot requests, AMIs, EBS volumes and snapshots, key pairs and launch templates,
 * Auto Scaling groups, ECS clusters, ECR repositories, Lambda functions and layers, Lightsail
 * instances, SageMaker notebooks, and (global, from us-east-1) Route 53 domains. One reader
 * per service; each records its failures as gaps and returns what it could read.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSnapshotsCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeClustersCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { LambdaClient, ListFunctionsCommand, ListLayersCommand } from '@aws-sdk/client-lambda';
import { GetInstancesCommand, LightsailClient } from '@aws-sdk/client-lightsail';
import { ListDomainsCommand, Route53DomainsClient } from '@aws-sdk/client-route-53-domains';
import { ListNotebookInstancesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { clientConfig } from '../sources/aws.js';
import { LIGHTSAIL_REGIONS, ROUTE53_DOMAINS_REGION } from './calls.js';
import { iso, resource, tagMap, type SnapshotContext } from './context.js';
import type { SnapshotResource } from './types.js';

/** A reader of one service in one region. */
export interface RegionalReader {
  readonly service: string;
  /** Whether the service is read in this region (Lightsail is offered in some; domains only in us-east-1). */
  readonly offeredIn: (region: string) => boolean;
  readonly read: (ctx: SnapshotContext, region: string) => Promise<SnapshotResource[]>;
}

/** Runs `fn` with a client that is destroyed after. */
async function using<C extends { destroy(): void }, T>(client: C, fn: (client: C) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

const token = (page: { NextToken?: string | undefined }) => page.NextToken;
const start = (t: string | null) => (t ? { NextToken: t } : {});

async function readEc2(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new EC2Client(clientConfig(ctx.settings, region)), async (ec2) => {
    const out: SnapshotResource[] = [];
    // Every state: a stopped instance still costs and can be started again.
    for (const page of await ctx.all('ec2:DescribeInstances', region, (t) => ec2.send(new DescribeInstancesCommand({ MaxResults: 1000, ...start(t) })), token)) {
      for (const reservation of page.Reservations ?? []) {
        for (const i of reservation.Instances ?? []) {
          out.push(resource({
            kind: 'ec2:instance', region, id: i.InstanceId!, name: tagMap(i.Tags)['Name'] ?? null, state: i.State?.Name ?? null, type: i.InstanceType ?? null,
            createdAt: iso(i.LaunchTime), tags: tagMap(i.Tags),
            detail: { imageId: i.ImageId ?? null, keyName: i.KeyName ?? null, publicIp: i.PublicIpAddress ?? null, instanceProfile: i.IamInstanceProfile?.Arn ?? null, spotRequestId: i.SpotInstanceRequestId ?? null, ownerId: reservation.OwnerId ?? null },
          }));
        }
      }
    }
    for (const page of await ctx.all('ec2:DescribeSpotInstanceRequests', region, (t) => ec2.send(new DescribeSpotInstanceRequestsCommand({ MaxResults: 1000, ...start(t) })), token)) {
      for (const s of page.SpotInstanceRequests ?? []) {
        out.push(resource({
          kind: 'ec2:spot-request', region, id: s.SpotInstanceRequestId!, state: s.State ?? null, type: s.LaunchSpecification?.InstanceType ?? null,
          createdAt: iso(s.CreateTime), tags: tagMap(s.Tags), detail: { instanceId: s.InstanceId ?? null, status: s.Status?.Code ?? null },
        }));
      }
    }
    for (const page of await ctx.all('ec2:DescribeImages', region, (t) => ec2.send(new DescribeImagesCommand({ Owners: ['self'], MaxResults: 1000, ...start(t) })), token)) {
      for (const im of page.Images ?? []) {
        out.push(resource({
          kind: 'ec2:image', region, id: im.ImageId!, name: im.Name ?? null, state: im.State ?? null, type: im.Architecture ?? null,
          createdAt: iso(im.CreationDate), tags: tagMap(im.Tags), detail: { public: im.Public ?? null, ownerId: im.OwnerId ?? null },
        }));
      }
    }
    for (const page of await ctx.all('ec2:DescribeVolumes', region, (t) => ec2.send(new DescribeVolumesCommand({ MaxResults: 500, ...start(t) })), token)) {
      for (const v of page.Volumes ?? []) {
        out.push(resource({
          kind: 'ec2:volume', region, id: v.VolumeId!, state: v.State ?? null, type: `${v.VolumeType ?? '?'} ${v.Size ?? '?'} GiB`,
          createdAt: iso(v.CreateTime), tags: tagMap(v.Tags), detail: { attachedTo: (v.Attachments ?? []).map((a) => a.InstanceId ?? ''), encrypted: v.Encrypted ?? null, snapshotId: v.SnapshotId || null },
        }));
      }
    }
    for (const page of await ctx.all('ec2:DescribeSnapshots', region, (t) => ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 1000, ...start(t) })), token)) {
      for (const s of page.Snapshots ?? []) {
        out.push(resource({
          kind: 'ec2:snapshot', region, id: s.SnapshotId!, state: s.State ?? null, type: `${s.VolumeSize ?? '?'} GiB`,
          createdAt: iso(s.StartTime), tags: tagMap(s.Tags), detail: { volumeId: s.VolumeId ?? null, description: s.Description ?? null, ownerId: s.OwnerId ?? null },
        }));
      }
    }
    const keys = await ctx.one('ec2:DescribeKeyPairs', region, () => ec2.send(new DescribeKeyPairsCommand({})));
    for (const k of keys?.KeyPairs ?? []) {
      out.push(resource({ kind: 'ec2:key-pair', region, id: k.KeyName!, name: k.KeyName ?? null, type: k.KeyType ?? null, createdAt: iso(k.CreateTime), tags: tagMap(k.Tags), detail: { keyPairId: k.KeyPairId ?? null, fingerprint: k.KeyFingerprint ?? null } }));
    }
    for (const page of await ctx.all('ec2:DescribeLaunchTemplates', region, (t) => ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200, ...start(t) })), token)) {
      for (const lt of page.LaunchTemplates ?? []) {
        out.push(resource({
          kind: 'ec2:launch-template', region, id: lt.LaunchTemplateName!, name: lt.LaunchTemplateName ?? null, createdAt: iso(lt.CreateTime), creator: lt.CreatedBy ?? null,
          tags: tagMap(lt.Tags), detail: { launchTemplateId: lt.LaunchTemplateId ?? null, latestVersion: lt.LatestVersionNumber ?? null },
        }));
      }
    }
    return out;
  });
}

async function readAutoScaling(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new AutoScalingClient(clientConfig(ctx.settings, region)), async (asg) =>
    (await ctx.all('autoscaling:DescribeAutoScalingGroups', region, (t) => asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, ...start(t) })), token)).flatMap((p) =>
      (p.AutoScalingGroups ?? []).map((g) =>
        resource({
          kind: 'autoscaling:group', region, id: g.AutoScalingGroupName!, arn: g.AutoScalingGroupARN ?? null, name: g.AutoScalingGroupName ?? null, state: g.Status ?? 'active',
          type: `${g.MinSize ?? '?'}-${g.MaxSize ?? '?'} (desired ${g.DesiredCapacity ?? '?'})`, createdAt: iso(g.CreatedTime), tags: tagMap(g.Tags),
          detail: { instances: (g.Instances ?? []).map((i) => i.InstanceId ?? ''), launchTemplate: g.LaunchTemplate?.LaunchTemplateName ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateName ?? null, launchConfiguration: g.LaunchConfigurationName ?? null },
        }),
      ),
    ),
  );
}

async function readEcs(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new ECSClient(clientConfig(ctx.settings, region)), async (ecs) => {
    const arns = (await ctx.all('ecs:ListClusters', region, (t) => ecs.send(new ListClustersCommand({ maxResults: 100, ...(t ? { nextToken: t } : {}) })), (p) => p.nextToken)).flatMap((p) => p.clusterArns ?? []);
    const out: SnapshotResource[] = [];
    // DescribeClusters takes up to 100 clusters a call.
    for (let i = 0; i < arns.length; i += 100) {
      const batch = arns.slice(i, i + 100);
      const described = await ctx.one('ecs:DescribeClusters', region, () => ecs.send(new DescribeClustersCommand({ clusters: batch, include: ['TAGS'] })));
      const byArn = new Map((described?.clusters ?? []).map((c) => [c.clusterArn, c]));
      for (const arn of batch) {
        const c = byArn.get(arn);
        out.push(resource({
          kind: 'ecs:cluster', region, id: c?.clusterName ?? arn.split('/').at(-1)!, arn, name: c?.clusterName ?? null, state: c?.status ?? null, tags: tagMap(c?.tags),
          detail: c ? { runningTasks: c.runningTasksCount ?? 0, services: c.activeServicesCount ?? 0, containerInstances: c.registeredContainerInstancesCount ?? 0 } : {},
        }));
      }
    }
    return out;
  });
}

async function readEcr(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new ECRClient(clientConfig(ctx.settings, region)), async (ecr) =>
    (await ctx.all('ecr:DescribeRepositories', region, (t) => ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000, ...(t ? { nextToken: t } : {}) })), (p) => p.nextToken)).flatMap((p) =>
      (p.repositories ?? []).map((r) => resource({ kind: 'ecr:repository', region, id: r.repositoryName!, arn: r.repositoryArn ?? null, name: r.repositoryName ?? null, createdAt: iso(r.createdAt), detail: { uri: r.repositoryUri ?? null, registryId: r.registryId ?? null } })),
    ),
  );
}

async function readLambda(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new LambdaClient(clientConfig(ctx.settings, region)), async (lambda) => {
    const next = (p: { NextMarker?: string | undefined }) => p.NextMarker;
    const functions = (await ctx.all('lambda:ListFunctions', region, (m) => lambda.send(new ListFunctionsCommand({ MaxItems: 50, ...(m ? { Marker: m } : {}) })), next)).flatMap((p) =>
      (p.Functions ?? []).map((f) =>
        resource({
          kind: 'lambda:function', region, id: f.FunctionName!, arn: f.FunctionArn ?? null, name: f.FunctionName ?? null, state: f.State ?? null, type: f.Runtime ?? f.PackageType ?? null,
          // ListFunctions gives the last change, not the creation.
          detail: { lastModified: iso(f.LastModified), role: f.Role ?? null, layers: (f.Layers ?? []).map((l) => l.Arn ?? ''), handler: f.Handler ?? null },
        }),
      ),
    );
    const layers = (await ctx.all('lambda:ListLayers', region, (m) => lambda.send(new ListLayersCommand({ MaxItems: 50, ...(m ? { Marker: m } : {}) })), next)).flatMap((p) =>
      (p.Layers ?? []).map((l) => resource({ kind: 'lambda:layer', region, id: l.LayerName!, arn: l.LayerArn ?? null, name: l.LayerName ?? null, createdAt: iso(l.LatestMatchingVersion?.CreatedDate), detail: { latestVersion: l.LatestMatchingVersion?.Version ?? null } })),
    );
    return [...functions, ...layers];
  });
}

async function readLightsail(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new LightsailClient(clientConfig(ctx.settings, region)), async (ls) =>
    (await ctx.all('lightsail:GetInstances', region, (t) => ls.send(new GetInstancesCommand({ ...(t ? { pageToken: t } : {}) })), (p) => p.nextPageToken)).flatMap((p) =>
      (p.instances ?? []).map((i) => resource({ kind: 'lightsail:instance', region, id: i.name!, arn: i.arn ?? null, name: i.name ?? null, state: i.state?.name ?? null, type: i.bundleId ?? null, createdAt: iso(i.createdAt), tags: tagMap(i.tags), detail: { blueprint: i.blueprintId ?? null, publicIp: i.publicIpAddress ?? null } })),
    ),
  );
}

async function readDomains(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new Route53DomainsClient(clientConfig(ctx.settings, region)), async (r53) =>
    (await ctx.all('route53domains:ListDomains', null, (m) => r53.send(new ListDomainsCommand({ ...(m ? { Marker: m } : {}) })), (p) => p.NextPageMarker)).flatMap((p) =>
      (p.Domains ?? []).map((d) => resource({ kind: 'route53domains:domain', region: null, id: d.DomainName!, name: d.DomainName ?? null, state: d.AutoRenew ? 'auto-renew' : 'no-auto-renew', detail: { expiry: iso(d.Expiry), transferLock: d.TransferLock ?? null } })),
    ),
  );
}

async function readSageMaker(ctx: SnapshotContext, region: string): Promise<SnapshotResource[]> {
  return using(new SageMakerClient(clientConfig(ctx.settings, region)), async (sm) =>
    (await ctx.all('sagemaker:ListNotebookInstances', region, (t) => sm.send(new ListNotebookInstancesCommand({ MaxResults: 100, ...start(t) })), token)).flatMap((p) =>
      (p.NotebookInstances ?? []).map((n) => resource({ kind: 'sagemaker:notebook', region, id: n.NotebookInstanceName!, arn: n.NotebookInstanceArn ?? null, name: n.NotebookInstanceName ?? null, state: n.NotebookInstanceStatus ?? null, type: n.InstanceType ?? null, createdAt: iso(n.CreationTime), detail: { url: n.Url ?? null } })),
    ),
  );
}

const everywhere = () => true;

/** The readers, in the order they run within a region. */
export const REGIONAL_READERS: readonly RegionalReader[] = [
  { service: 'ec2', offeredIn: everywhere, read: readEc2 },
  { service: 'autoscaling', offeredIn: everywhere, read: readAutoScaling },
  { service: 'ecs', offeredIn: everywhere, read: readEcs },
  { service: 'ecr', offeredIn: everywhere, read: readEcr },
  { service: 'lambda', offeredIn: everywhere, read: readLambda },
  { service: 'lightsail', offeredIn: (r) => LIGHTSAIL_REGIONS.has(r), read: readLightsail },
  { service: 'sagemaker', offeredIn: everywhere, read: readSageMaker },
  { service: 'route53domains', offeredIn: (r) => r === ROUTE53_DOMAINS_REGION, read: readDomains },
];
