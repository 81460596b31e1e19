import type { Scope } from '../core/scope.js';

/** What a path inside a CloudTrail bucket says about the files below it. */
export interface TrailPathInfo {
  readonly kind?: 'log' | 'digest' | 'insight';
  readonly organization?: string;
  readonly account?: string;
  readonly region?: string;
  readonly year?: number;
  readonly month?: number;
  readonly day?: number;
}

const KINDS: Record<string, TrailPathInfo['kind']> = {
  CloudTrail: 'log',
  'CloudTrail-Digest': 'digest',
  'CloudTrail-Insight': 'insight',
};

/**
 * Reads the S3 trail layout out of a path:
 * `…/AWSLogs/[o-org/]<account>/CloudTrail[-Digest]/<region>/<yyyy>/<mm>/<dd>/<file>`.
 * Returns what the path reaches so far (a directory high in the tree gives fewer fields),
 * or undefined when the path is not inside an AWSLogs tree.
 */
export function parseTrailPath(path: string): TrailPathInfo | undefined {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  const root = parts.lastIndexOf('AWSLogs');
  if (root < 0) return undefined;
  let i = root + 1;
  const info: { -readonly [K in keyof TrailPathInfo]: TrailPathInfo[K] } = {};
  if (parts[i]?.startsWith('o-')) info.organization = parts[i++];
  const account = parts[i];
  if (account === undefined) return info;
  if (!/^\d{12}$/.test(account)) return undefined;
  info.account = account;
  const kindPart = parts[++i];
  if (kindPart === undefined) return info;
  const kind = KINDS[kindPart];
  if (!kind) return undefined;
  info.kind = kind;
  const region = parts[++i];
  if (region === undefined) return info;
  info.region = region;
  const numbers = [parts[i + 1], parts[i + 2], parts[i + 3]];
  const widths = [4, 2, 2];
  const fields = ['year', 'month', 'day'] as const;
  for (let k = 0; k < 3; k++) {
    const text = numbers[k];
    if (text === undefined || !new RegExp(`^\\d{${widths[k]}}$`).test(text)) break;
    info[fields[k]!] = Number(text);
  }
  return info;
}

/** The account, region and time window an ingest is narrowed to (one type with the engines' window). */
export type { Scope };

// A file is written after the events in it happen; late deliveries can land in the next day's folder.
const LATE_DELIVERY_MS = 86_400_000;

/**
 * Whether anything under a trail path can fall inside the scope. Used to prune directories
 * without opening their files; records are still filtered exactly when loaded.
 */
export function trailPathInScope(info: TrailPathInfo | undefined, scope: Scope): boolean {
  if (!info) return true;
  if (info.account && scope.accounts?.length && !scope.accounts.includes(info.account)) return false;
  if (info.region && scope.regions?.length && !scope.regions.includes(info.region)) return false;
  if (info.year === undefined) return true;
  const start = Date.UTC(info.year, (info.month ?? 1) - 1, info.day ?? 1);
  const end =
    info.day !== undefined
      ? Date.UTC(info.year, (info.month ?? 1) - 1, info.day + 1)
      : info.month !== undefined
        ? Date.UTC(info.year, info.month, 1)
        : Date.UTC(info.year + 1, 0, 1);
  if (scope.since && end <= scope.since.getTime()) return false;
  if (scope.until && start > scope.until.getTime() + LATE_DELIVERY_MS) return false;
  return true;
}
