import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CloudTrailRecord, UserIdentity } from '../src/core/record.js';
import { UsageError } from '../src/core/errors.js';
import { isoSeconds } from '../src/core/time.js';
import { encodeLogFile, logFileSuffix, trailObjectKey } from './layout.js';
import { Random } from './random.js';
import type { Seed } from './random.js';
import {
  BROWSER_USER_AGENT,
  CLI_USER_AGENT,
  HOME_REGION,
  accessDenied,
  assumedRoleIdentity,
  awsServiceIdentity,
  eventSpec,
  iamUserIdentity,
  iamUserSessionIdentity,
  makeRecord,
} from './records.js';
import type { EventName, RecordOverrides } from './records.js';

/** What `generateCorpus` should write. */
export interface CorpusOptions {
  /** Number of records in total. */
  readonly events: number;
  /** Folder that receives `AWSLogs/…`. */
  readonly out: string;
  /** Number of log files; by default one per 500 records. */
  readonly files?: number;
  readonly seed?: Seed;
  /** Worker threads; by default up to two, as many as the machine has. */
  readonly workers?: number;
  /** First instant covered (UTC ISO-8601). */
  readonly start?: string;
  /** Days the corpus spans. */
  readonly days?: number;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  readonly gzipLevel?: number;
  /** Remove an existing `out/AWSLogs` first; without it, an existing one is an error. */
  readonly replace?: boolean;
  /**
   * The account's shape: `ordinary` (default); `busy-key`, where one long-term key
   * (BUSY_KEY_ID) acts at the start of every file of the first account, so in every hour of
   * the span; `noisy-account`, where 30 % of the events are sensitive writes (access keys
   * created, policies attached, GPU instances launched).
   */
  readonly shape?: CorpusShape;
}

export type CorpusShape = 'ordinary' | 'busy-key' | 'noisy-account';

/** The key `busy-key` corpora use in every hour. */
export const BUSY_KEY_ID = 'AKIAQ3EGRV7XBUSYKEY1';

/** The share of a `noisy-account` corpus that is sensitive writes. */
const NOISY_SHARE = 0.3;

/** What `generateCorpus` wrote and how long it took. */
export interface CorpusResult {
  readonly files: number;
  readonly events: number;
  /** Gzipped bytes on disk. */
  readonly bytes: number;
  /** Bytes of JSON before compression. */
  readonly uncompressedBytes: number;
  readonly seconds: number;
  readonly workers: number;
}

/** Where one corpus file goes and how many records it holds. */
export interface CorpusFilePlan {
  readonly index: number;
  readonly account: string;
  readonly region: string;
  readonly deliveredAt: Date;
  readonly events: number;
}

interface ResolvedCorpusOptions {
  readonly events: number;
  readonly out: string;
  readonly files: number;
  readonly seed: string;
  readonly start: number;
  readonly days: number;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly gzipLevel: number;
  readonly shape: CorpusShape;
}

interface ShardResult {
  readonly files: number;
  readonly events: number;
  readonly bytes: number;
  readonly uncompressedBytes: number;
}

const WORKER_KIND = 'trailhound-corpus-shard';
const WINDOW_MS = 5 * 60_000;
const REGION_WEIGHTS: Readonly<Record<string, number>> = {
  'us-east-1': 35,
  'us-west-2': 20,
  'eu-west-1': 20,
  'eu-central-1': 10,
  'ap-southeast-1': 8,
  'ap-northeast-1': 7,
};

/** The accounts a corpus spreads over unless told otherwise. */
export const CORPUS_ACCOUNTS = ['111122223333', '444455556666', '777788889999'] as const;

/** The regions a corpus spreads over unless told otherwise. */
export const CORPUS_REGIONS = Object.keys(REGION_WEIGHTS);

const REGIONAL_MIX: ReadonlyArray<readonly [EventName, number]> = [
  ['GetObject', 25],
  ['PutObject', 12],
  ['Decrypt', 10],
  ['AssumeRole', 10],
  ['DescribeInstances', 8],
  ['GetCallerIdentity', 5],
  ['DescribeSecurityGroups', 4],
  ['DescribeVolumes', 4],
  ['ListFunctions20150331', 3],
  ['GetBucketAcl', 3],
  ['DescribeRegions', 1],
  ['RunInstances', 0.5],
  ['CreateBucket', 0.1],
];

const GLOBAL_MIX: ReadonlyArray<readonly [EventName, number]> = [
  ...REGIONAL_MIX,
  ['ListBuckets', 3],
  ['ListUsers', 1.5],
  ['ListRoles', 1.5],
  ['ListAttachedUserPolicies', 1],
  ['ConsoleLogin', 0.4],
  ['GetSessionToken', 0.3],
  ['CreateUser', 0.03],
  ['CreateAccessKey', 0.03],
  ['CreateLoginProfile', 0.01],
  ['AttachUserPolicy', 0.02],
];

const SDK_USER_AGENTS = [
  'aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.4',
  'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 cfg/retry-mode#legacy',
  'aws-sdk-java/2.25.11 Linux/6.1.79-99.164.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc.',
] as const;

const USER_NAMES = ['alice', 'bob', 'carol', 'ci-deploy', 'data-pipeline', 'ops-oncall'] as const;
const SERVICE_ROLES = [
  ['app-server-role', 'ec2.amazonaws.com'],
  ['etl-lambda-role', 'lambda.amazonaws.com'],
  ['batch-worker-role', 'ecs-tasks.amazonaws.com'],
] as const;

function resolveOptions(options: CorpusOptions): ResolvedCorpusOptions {
  const events = options.events;
  if (!Number.isInteger(events) || events < 1) throw new UsageError(`--events must be a positive integer, not ${events}`);
  const files = options.files ?? Math.max(1, Math.round(events / 500));
  if (!Number.isInteger(files) || files < 1 || files > events) {
    throw new UsageError(`--files must be an integer between 1 and the number of events (${events}), not ${files}`);
  }
  const start = Date.parse(options.start ?? '2026-01-05T00:00:00Z');
  if (Number.isNaN(start)) throw new UsageError(`cannot read start time "${options.start}"; use ISO-8601`);
  const regions = options.regions ?? CORPUS_REGIONS;
  const accounts = options.accounts ?? CORPUS_ACCOUNTS;
  if (regions.length === 0 || accounts.length === 0) throw new UsageError('a corpus needs at least one account and one region');
  return {
    events,
    out: options.out,
    files,
    seed: String(options.seed ?? 1),
    start,
    days: options.days ?? 28,
    accounts: [...accounts],
    regions: [...regions],
    gzipLevel: options.gzipLevel ?? 6,
    shape: options.shape ?? 'ordinary',
  };
}

/** Where file `index` of a corpus goes and how many records it holds; records are shared out evenly. */
export function planCorpusFile(index: number, options: CorpusOptions): CorpusFilePlan {
  return planFile(index, resolveOptions(options));
}

function planFile(index: number, o: ResolvedCorpusOptions): CorpusFilePlan {
  const rng = new Random(`${o.seed}:plan:${index}`);
  const windows = Math.max(1, Math.floor((o.days * 86_400_000) / WINDOW_MS));
  const slot = Math.floor((index * windows) / o.files);
  const base = Math.floor(o.events / o.files);
  const weights = o.regions.map((r) => [r, REGION_WEIGHTS[r] ?? 5] as const);
  return {
    index,
    account: o.accounts[index % o.accounts.length] ?? '111122223333',
    region: rng.weighted(weights),
    deliveredAt: new Date(o.start + (slot + 1) * WINDOW_MS),
    events: base + (index < o.events % o.files ? 1 : 0),
  };
}

interface Cast {
  readonly users: ReadonlyArray<{ identity: UserIdentity; ip: string; agent: string }>;
}

const casts = new Map<string, Cast>();

function castFor(account: string): Cast {
  let cast = casts.get(account);
  if (!cast) {
    const rng = new Random(`cast:${account}`);
    cast = {
      users: USER_NAMES.map((userName) => ({
        identity: iamUserIdentity({ account, userName }),
        ip: rng.chance(0.5) ? `198.51.100.${rng.int(2, 250)}` : `192.0.2.${rng.int(2, 250)}`,
        agent: userName === 'ci-deploy' || userName === 'data-pipeline' ? `${CLI_USER_AGENT} md/command#s3.cp` : CLI_USER_AGENT,
      })),
    };
    casts.set(account, cast);
  }
  return cast;
}

const NOISY_MIX: ReadonlyArray<readonly [EventName, number]> = [
  ['CreateAccessKey', 1],
  ['AttachUserPolicy', 1],
  ['RunInstances', 1],
];
const GPU_TYPES = ['p3.8xlarge', 'p3.16xlarge', 'g4dn.12xlarge', 'g5.48xlarge', 'p4d.24xlarge'];

function corpusRecord(rng: Random, plan: CorpusFilePlan, eventTime: string, shape: CorpusShape = 'ordinary'): CloudTrailRecord {
  const global = plan.region === HOME_REGION;
  const noisy = shape === 'noisy-account' && rng.chance(NOISY_SHARE);
  let name = noisy ? rng.weighted(NOISY_MIX) : rng.weighted(global ? GLOBAL_MIX : REGIONAL_MIX);
  // IAM calls are delivered to us-east-1 files only: elsewhere a noisy account launches instead.
  if (eventSpec(name).global && !global) name = noisy ? 'RunInstances' : 'DescribeInstances';
  const account = plan.account;
  const base: RecordOverrides = { eventTime, awsRegion: plan.region, recipientAccountId: account };
  const [roleName, service] = rng.pick(SERVICE_ROLES);
  const roleArn = `arn:aws:iam::${account}:role/${roleName}`;
  if (name === 'AssumeRole') {
    return makeRecord(name, {
      ...base,
      userIdentity: awsServiceIdentity(service),
      requestParameters: { roleArn, roleSessionName: service === 'ec2.amazonaws.com' ? rng.instanceId() : `${roleName}-${rng.hex(8)}` },
    }, rng);
  }
  const byRole = name === 'GetObject' || name === 'PutObject' || name === 'Decrypt' ? rng.chance(0.7) : rng.chance(0.2);
  let who: RecordOverrides;
  if (byRole) {
    const session = service === 'ec2.amazonaws.com' ? rng.instanceId() : `${roleName}-${rng.hex(8)}`;
    who = {
      userIdentity: assumedRoleIdentity({
        account,
        roleName,
        sessionName: session,
        accessKeyId: rng.accessKeyId('ASIA'),
        creationDate: isoSeconds(new Date(Date.parse(eventTime) - rng.int(60, 21_000) * 1000)),
      }),
      sourceIPAddress: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      userAgent: rng.pick(SDK_USER_AGENTS),
    };
  } else {
    const user = rng.pick(castFor(account).users);
    const inConsole = rng.chance(0.25);
    who = inConsole
      ? {
          userIdentity: iamUserSessionIdentity({
            account,
            userName: user.identity.userName ?? 'alice',
            accessKeyId: rng.accessKeyId('ASIA'),
            creationDate: isoSeconds(new Date(Date.parse(eventTime) - rng.int(60, 7200) * 1000)),
            mfaAuthenticated: true,
          }),
          sourceIPAddress: user.ip,
          userAgent: name === 'ConsoleLogin' ? BROWSER_USER_AGENT : 'AWS Internal',
          sessionCredentialFromConsole: 'true',
        }
      : { userIdentity: user.identity, sourceIPAddress: user.ip, userAgent: user.agent };
    if (name === 'ConsoleLogin') who = { userIdentity: user.identity, sourceIPAddress: user.ip, userAgent: BROWSER_USER_AGENT };
  }
  const overrides: RecordOverrides = { ...base, ...who };
  const bucket = `example-${['assets', 'logs', 'reports', 'backups'][rng.int(0, 3)]}-${account}-${plan.region}`;
  if (name === 'GetObject' || name === 'PutObject') {
    overrides.requestParameters = { bucketName: bucket, key: `${rng.pick(['data', 'uploads', 'exports', 'static'])}/${rng.hex(4)}/${rng.hex(16)}.${rng.pick(['json', 'csv', 'png', 'parquet', 'gz'])}` };
  } else if (name === 'GetBucketAcl' || name === 'CreateBucket') {
    overrides.requestParameters = { bucketName: bucket };
  } else if (name === 'ListAttachedUserPolicies' || name === 'CreateUser' || name === 'CreateAccessKey' || name === 'CreateLoginProfile' || name === 'AttachUserPolicy') {
    const userName = name === 'ListAttachedUserPolicies' ? rng.pick(USER_NAMES) : `svc-${rng.hex(6)}`;
    overrides.requestParameters =
      name === 'AttachUserPolicy' ? { userName, policyArn: noisy ? rng.pick(['arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::aws:policy/IAMFullAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess']) : 'arn:aws:iam::aws:policy/ReadOnlyAccess' } : { userName };
  } else if (name === 'RunInstances') {
    overrides.requestParameters = {
      instanceType: noisy ? rng.pick(GPU_TYPES) : rng.pick(['t3.micro', 't3.medium', 'm5.large', 'c5.xlarge']),
      instancesSet: { items: [{ imageId: `ami-${rng.hex(17)}`, minCount: 1, maxCount: 1 }] },
    };
  }
  if (name !== 'ConsoleLogin' && rng.chance(0.02)) {
    const identity = overrides.userIdentity as UserIdentity;
    Object.assign(overrides, accessDenied(name, identity));
  }
  return makeRecord(name, overrides, rng);
}

/** The records of one corpus file, in time order, each with its own event id. */
export function corpusFileRecords(plan: CorpusFilePlan, seed: Seed = 1, shape: CorpusShape = 'ordinary', firstAccount: string = CORPUS_ACCOUNTS[0]): CloudTrailRecord[] {
  const rng = new Random(`${String(seed)}:file:${plan.index}`);
  const windowStart = plan.deliveredAt.getTime() - WINDOW_MS;
  const records: CloudTrailRecord[] = [];
  for (let i = 0; i < plan.events; i++) {
    const at = windowStart + Math.floor((i * WINDOW_MS) / plan.events);
    records.push(corpusRecord(rng, plan, isoSeconds(new Date(at)), shape));
  }
  if (shape === 'busy-key' && plan.account === firstAccount && records.length > 0) {
    // The busy key's call replaces the file's first record: one call in every file of the account.
    const user = iamUserIdentity({ account: plan.account, userName: 'ci-deploy', accessKeyId: BUSY_KEY_ID });
    const name = rng.pick(['DescribeInstances', 'GetCallerIdentity', 'ListBuckets', 'DescribeVolumes'] as const);
    records[0] = makeRecord(name, { eventTime: records[0]!.eventTime, awsRegion: plan.region, recipientAccountId: plan.account, userIdentity: user, sourceIPAddress: '192.0.2.80', userAgent: CLI_USER_AGENT }, rng);
  }
  return records;
}

function runShard(o: ResolvedCorpusOptions, shard: number, shards: number): ShardResult {
  const made = new Set<string>();
  let files = 0;
  let events = 0;
  let bytes = 0;
  let uncompressedBytes = 0;
  for (let index = shard; index < o.files; index += shards) {
    const plan = planFile(index, o);
    const records = corpusFileRecords(plan, o.seed, o.shape, o.accounts[0]);
    const { json, gz } = encodeLogFile(records, o.gzipLevel);
    const key = trailObjectKey({ account: plan.account, region: plan.region, deliveredAt: plan.deliveredAt, suffix: logFileSuffix(json) });
    const path = join(o.out, ...key.split('/'));
    const dir = dirname(path);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(path, gz);
    files++;
    events += records.length;
    bytes += gz.length;
    uncompressedBytes += json.length;
  }
  return { files, events, bytes, uncompressedBytes };
}

function runWorker(o: ResolvedCorpusOptions, shard: number, shards: number): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind: WORKER_KIND, options: o, shard, shards } });
    let result: ShardResult | undefined;
    worker.once('message', (message: ShardResult) => {
      result = message;
    });
    worker.once('error', (error) => reject(new Error(`corpus worker ${shard} failed`, { cause: error })));
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`corpus worker ${shard} exited with code ${code} before reporting`));
    });
  });
}

/**
 * Streams a synthetic corpus of routine CloudTrail activity to `out` in the trail bucket
 * layout (no digests): records spread over accounts, regions and weeks, each file built,
 * gzipped and written before the next, so memory stays flat whatever the size. Files are
 * shared among worker threads; the output is the same whatever the number of workers.
 *
 * @example
 * const result = await generateCorpus({ events: 1_000_000, out: 'bench/corpus-1m' });
 */
export async function generateCorpus(options: CorpusOptions): Promise<CorpusResult> {
  const o = resolveOptions(options);
  const began = performance.now();
  const logs = join(o.out, 'AWSLogs');
  if (existsSync(logs)) {
    if (!options.replace) throw new UsageError(`${logs} already exists; remove it or pass --force to replace it`);
    await rm(logs, { recursive: true, force: true });
  }
  mkdirSync(o.out, { recursive: true });
  const canFork = import.meta.url.endsWith('.js');
  const wanted = options.workers ?? Math.min(2, availableParallelism());
  const workers = canFork ? Math.max(1, Math.min(wanted, o.files)) : 1;
  const shards =
    workers === 1
      ? [runShard(o, 0, 1)]
      : await Promise.all(Array.from({ length: workers }, (_, shard) => runWorker(o, shard, workers)));
  const total = shards.reduce(
    (acc, s) => ({
      files: acc.files + s.files,
      events: acc.events + s.events,
      bytes: acc.bytes + s.bytes,
      uncompressedBytes: acc.uncompressedBytes + s.uncompressedBytes,
    }),
    { files: 0, events: 0, bytes: 0, uncompressedBytes: 0 },
  );
  return { ...total, seconds: (performance.now() - began) / 1000, workers };
}

const job = workerData as { kind?: string; options: ResolvedCorpusOptions; shard: number; shards: number } | null;
if (!isMainThread && job?.kind === WORKER_KIND) {
  parentPort?.postMessage(runShard(job.options, job.shard, job.shards));
}
