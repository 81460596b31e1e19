import { UsageError } from '../core/errors.js';
import { parseInstant } from '../core/time.js';
import type { Scope } from '../ingest/trail-layout.js';
import { defaultStorePath } from '../store/store.js';

/** Options every scoped command shares. */
export interface ScopeOptions {
  readonly since?: string;
  readonly until?: string;
  readonly account?: readonly string[];
  readonly region?: readonly string[];
}

/** The store path from --db, $TRAILHOUND_DB or the default. */
export function storePath(opts: { readonly db?: string }): string {
  return opts.db ?? defaultStorePath();
}

/** Turns --since/--until/--account/--region into a scope (values may also be comma-separated). */
export function parseScope(opts: ScopeOptions, now: Date = new Date()): Scope {
  const list = (values: readonly string[] | undefined) => values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  const accounts = list(opts.account);
  for (const account of accounts ?? []) {
    if (!/^\d{12}$/.test(account)) throw new UsageError(`--account ${account} is not a 12-digit AWS account id`);
  }
  const scope: Scope = {
    ...(opts.since ? { since: parseInstant(opts.since, now) } : {}),
    ...(opts.until ? { until: parseInstant(opts.until, now) } : {}),
    ...(accounts?.length ? { accounts } : {}),
    ...(list(opts.region)?.length ? { regions: list(opts.region)! } : {}),
  };
  if (scope.since && scope.until && scope.since >= scope.until) {
    throw new UsageError('--since must be before --until');
  }
  return scope;
}

/** Parses a positive number option. */
export function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} takes a positive number, not "${text}"`);
  return value;
}

/** Checks a DuckDB memory limit such as 1GB or 512MB, and gives it back. */
export function memoryLimit(text: string): string {
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(text)) {
    throw new UsageError(`--memory-limit takes a size such as 1GB or 512MB, not "${text}"`);
  }
  return text;
}
