/**
 * What every collector of a snapshot shares: the client settings, retries through the same
 * `withRetries` as the other sources, a count of the calls sent, and the gaps — a call that
 * fails after its retries is recorded and the collector goes on with what it has.
 */
import type { AwsOptions, Attempted } from '../sources/aws.js';
import { withRetries } from '../sources/aws.js';
import { pages } from '../sources/pages.js';
import { gapOf, type SnapshotCall } from './calls.js';
import type { SnapshotGap, SnapshotResource } from './types.js';

/** A snapshot's settings: where to read, and how. */
export interface SnapshotSettings extends AwsOptions {
  /** Only these regions (default: every enabled one). */
  readonly regions?: readonly string[];
  /** Region-and-service reads in flight at once (default 6). */
  readonly concurrency?: number;
  /** Time between polls of the credential report while IAM builds it (default 2 s), and how many (default 30). */
  readonly reportPollMs?: number;
  readonly reportPolls?: number;
  readonly signal?: AbortSignal;
  /** Told after each region-and-service read. */
  readonly onProgress?: (progress: SnapshotProgress) => void;
}

/** One region-and-service read done. */
export interface SnapshotProgress {
  readonly region: string | null;
  readonly service: string;
  readonly resources: number;
  readonly gaps: number;
  readonly ms: number;
}

export class SnapshotContext {
  calls = 0;
  readonly gaps: SnapshotGap[] = [];
  constructor(readonly settings: SnapshotSettings) {}

  /** How every call is retried: the settings' attempts and backoff, the call as the permission named on denial. */
  private retries(call: SnapshotCall) {
    return { permission: call, maxAttempts: this.settings.maxAttempts ?? 5, backoffMs: this.settings.backoffMs ?? 500, ...(this.settings.signal ? { signal: this.settings.signal } : {}) };
  }

  /** One call with retries; a failure is returned (not recorded) for the caller to judge. */
  async try<T>(call: SnapshotCall, send: () => Promise<T>): Promise<Attempted<T>> {
    return withRetries(() => {
      this.calls++;
      return send();
    }, this.retries(call));
  }

  /** One call; a failure is recorded as a gap and gives undefined. */
  async one<T>(call: SnapshotCall, region: string | null, send: () => Promise<T>): Promise<T | undefined> {
    const result = await this.try(call, send);
    if (result.ok) return result.value;
    this.gaps.push(gapOf(call, region, result.failure));
    return undefined;
  }

  /** Every page of a paginated call; a failure is recorded as a gap and ends the pages (those read are kept). */
  async all<P>(call: SnapshotCall, region: string | null, send: (token: string | null) => Promise<P>, next: (page: P) => string | null | undefined): Promise<P[]> {
    const out: P[] = [];
    const request = {
      send: (token: string | null) => {
        this.calls++;
        return send(token);
      },
      nextToken: next,
      ...this.retries(call),
    };
    for await (const item of pages(request)) {
      if (item.ok) out.push(item.page);
      else this.gaps.push(gapOf(call, region, item.failure));
    }
    return out;
  }
}

/** An ISO instant from what the SDK gives (a Date, or a string for some REST services). */
export function iso(value: Date | string | number | undefined | null): string | null {
  if (value === undefined || value === null || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Tags as a map, from the `{Key, Value}` (or `{key, value}`) lists the APIs give. */
export function tagMap(tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined; key?: string | undefined; value?: string | undefined }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) {
    const key = t.Key ?? t.key;
    if (key !== undefined) out[key] = t.Value ?? t.value ?? '';
  }
  return out;
}

/** A resource row with the fields a kind leaves out set to null. */
export function resource(row: Pick<SnapshotResource, 'kind' | 'region' | 'id'> & Partial<SnapshotResource>): SnapshotResource {
  return { arn: null, name: null, state: null, type: null, createdAt: null, creator: null, tags: {}, detail: {}, ...row };
}
