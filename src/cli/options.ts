import { totalmem } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseInstant } from '../core/time.js';
import { sizeBytes } from '../core/size.js';
import { SEVERITIES, type Severity } from '../detect/catalog.js';
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

/**
 * The values of a repeatable option, each of which may also be a comma-separated list:
 * `--key A,B --key C` gives A, B, C (in order, blanks dropped, repeats kept).
 */
export function commaList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

/** Like commaList, without repeats (first occurrence kept). */
export function uniqueList(values: readonly string[] | undefined): string[] {
  return [...new Set(commaList(values))];
}

/** Options that name a pivot: what a key, address, principal or session did. */
export interface PivotOptions {
  readonly key?: readonly string[];
  readonly ip?: readonly string[];
  readonly principal?: readonly string[];
  readonly session?: readonly string[];
}

/** The pivot named by --key/--ip/--principal/--session (keys upper-cased, repeats dropped). */
export interface PivotValues {
  readonly keys: string[];
  readonly ips: string[];
  readonly principals: string[];
  readonly sessions: string[];
}

/** Parses the pivot options once for every command that takes them. */
export function parsePivot(opts: PivotOptions): PivotValues {
  return {
    keys: uniqueList(opts.key).map((k) => k.toUpperCase()),
    ips: uniqueList(opts.ip),
    principals: uniqueList(opts.principal),
    sessions: uniqueList(opts.session),
  };
}

/** Checks --min-severity and gives back the severity (undefined when the option is absent). */
export function parseMinSeverity(text: string | undefined): Severity | undefined {
  if (!text) return undefined;
  if (!SEVERITIES.includes(text as Severity)) throw new UsageError(`--min-severity takes one of ${SEVERITIES.join(', ')}`);
  return text as Severity;
}

/** Turns --since/--until/--account/--region into a scope (values may also be comma-separated). */
export function parseScope(opts: ScopeOptions, now: Date = new Date()): Scope {
  const list = (values: readonly string[] | undefined) => commaList(values);
  const accounts = list(opts.account);
  for (const account of accounts) {
    if (!/^\d{12}$/.test(account)) throw new UsageError(`--account ${account} is not a 12-digit AWS account id`);
  }
  const scope: Scope = {
    ...(opts.since ? { since: parseInstant(opts.since, now) } : {}),
    ...(opts.until ? { until: parseInstant(opts.until, now) } : {}),
    ...(accounts.length ? { accounts } : {}),
    ...(list(opts.region).length ? { regions: list(opts.region) } : {}),
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
  memoryBytes(text);
  return text;
}

/** The bytes of a DuckDB memory limit such as 1GB or 512MB (checked as memoryLimit does). */
export function memoryBytes(text: string): number {
  const bytes = sizeBytes(text);
  if (bytes === null) throw new UsageError(`--memory-limit takes a size such as 1GB or 512MB, not "${text}"`);
  // DuckDB cannot open a store, let alone load a file, in less.
  if (bytes < MIN_MEMORY_BYTES) throw new UsageError(`--memory-limit ${text} is too small for DuckDB to work in; give at least 64MB`);
  return bytes;
}

/**
 * Loading a file takes about 16 times its decompressed size in DuckDB's memory (a 170 MB
 * Records file of 120k events failed at 2 GB and loaded at 3 GB): the default largest file
 * is the memory limit over this, so a file under --max-file-mb is one that fits.
 */
export const LOAD_MEMORY_FACTOR = 16;

/** Ingest's default memory limit: half the machine's memory, at least 1 GiB. */
export function defaultIngestMemory(total = totalmem()): string {
  return `${Math.max(1024, Math.floor(total / 2 / 2 ** 20))}MiB`;
}

/** Ingest's largest file and memory limit, each from the option given or sized to the other. */
export function ingestLimits(opts: { readonly maxFileMb?: string; readonly memoryLimit?: string }, total = totalmem()): { maxFileBytes: number; memoryLimit: string } {
  const limit = memoryLimit(opts.memoryLimit ?? defaultIngestMemory(total));
  const maxFileBytes = opts.maxFileMb !== undefined ? Math.round(positiveNumber('--max-file-mb', opts.maxFileMb) * 2 ** 20) : Math.min(2 ** 30, Math.floor(memoryBytes(limit) / LOAD_MEMORY_FACTOR));
  return { maxFileBytes, memoryLimit: limit };
}

const MIN_MEMORY_BYTES = 64 * 1000 ** 2;

/** An option's flag from its commander name: `maxScanGb` → `--max-scan-gb`. */
export function flagOf(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Throws `<flag> applies to <where> only` for the first of `names` that was given. */
export function refuseStray<T extends object>(opts: T, names: ReadonlyArray<keyof T & string>, where: string): void {
  const stray = names.find((k) => opts[k] !== undefined);
  if (stray) throw new UsageError(`${flagOf(stray)} applies to ${where} only`);
}

/**
 * Output format names, the same in every command: `text` for a person at a terminal (aligned
 * tables, summaries), `json` one document, `jsonl` one object a line, `csv`, `md` (Markdown
 * for a ticket), `html`, `sh` (a commented script), `timesketch`. Each command takes those it
 * can write and documents them; `table`, the name some commands used for `text`, still works.
 */
export type FormatName = 'text' | 'json' | 'jsonl' | 'csv' | 'md' | 'html' | 'sh' | 'timesketch';

/** The --format option of a command: `choices` in the order the help lists them. */
export function formatOption(choices: readonly FormatName[], fallback: FormatName, description = 'output format'): Option {
  return new Option('--format <format>', description)
    .choices(choices)
    .default(fallback)
    .argParser((value: string) => {
      const name = value === 'table' ? 'text' : value;
      if (!(choices as readonly string[]).includes(name)) throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
      return name;
    });
}
