/**
 * Snapshots in the store: each kept whole with where it came from (taken here against AWS, or
 * loaded from a document, with the document's SHA-256), so that several over time answer "was
 * it gone at 14:00?". A snapshot already in the store is not loaded twice.
 */
import { createHash } from 'node:crypto';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { TrailhoundError, ExitCode } from '../core/errors.js';
import { parseInstant } from '../core/time.js';
import type { Store } from '../store/store.js';
import type { SnapshotDocument, SnapshotGap, SnapshotRegion, SnapshotResource } from './types.js';

/** Where a snapshot came from. */
export interface SnapshotProvenance {
  /** `aws`: taken by this store's `snapshot`; `file`: loaded from a document. */
  readonly source: 'aws' | 'file';
  /** The endpoint or profile it was taken with, or the document's path. */
  readonly uri: string;
}

/** A snapshot read back from the store. */
export interface StoredSnapshot extends SnapshotDocument {
  readonly source: string;
  readonly uri: string | null;
  readonly sha256: string | null;
}

/** The SHA-256 of a document's JSON text, as written by `snapshot --out`. */
export function documentDigest(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Stores a snapshot; false when one with its id is already there. */
export async function saveSnapshot(store: Store, doc: SnapshotDocument, provenance: SnapshotProvenance, sha256: string | null): Promise<boolean> {
  const existing = await store.one('select 1 as x from snapshots where snapshot_id = $id', { id: doc.id });
  if (existing) return false;
  await store.transaction(async () => {
    await store.run(
      `insert into snapshots values ($id, $taken::timestamptz, $finished::timestamptz, $account, $caller, $source, $uri, $sha, $ms, $calls, $version, $regions::json, $report::json, now())`,
      {
        id: doc.id,
        taken: doc.takenAt,
        finished: doc.finishedAt,
        account: doc.account,
        caller: doc.callerArn,
        source: provenance.source,
        uri: provenance.uri,
        sha: sha256,
        ms: Math.round(doc.durationMs),
        calls: doc.calls,
        version: doc.toolVersion,
        regions: JSON.stringify(doc.regions),
        report: doc.credentialReport ? JSON.stringify(doc.credentialReport) : null,
      },
    );
    // One statement for every row: the rows go in as one JSON parameter, never as SQL text.
    if (doc.resources.length > 0) {
      await store.run(
        `insert into snapshot_resources
         select $id, r->>'kind', r->>'region', r->>'id', r->>'arn', r->>'name', r->>'state', r->>'type', (r->>'createdAt')::timestamptz, r->>'creator', r->'tags', r->'detail'
         from (select unnest(from_json($rows::json, '["json"]')) as r)`,
        { id: doc.id, rows: JSON.stringify(doc.resources) },
      );
    }
    if (doc.gaps.length > 0) {
      await store.run(
        `insert into snapshot_gaps select $id, g->>'service', g->>'region', g->>'call', g->>'reason' from (select unnest(from_json($rows::json, '["json"]')) as g)`,
        { id: doc.id, rows: JSON.stringify(doc.gaps) },
      );
    }
  });
  return true;
}

/** One line per snapshot in the store, newest first. */
export interface SnapshotListing {
  readonly id: string;
  readonly takenAt: string;
  readonly account: string | null;
  readonly source: string;
  readonly uri: string | null;
  readonly resources: number;
  readonly gaps: number;
}

export async function listSnapshots(store: Store): Promise<SnapshotListing[]> {
  const rows = await store.all<{ id: string; taken: string; account: string | null; source: string; uri: string | null; resources: bigint | number; gaps: bigint | number }>(
    `select s.snapshot_id as id, strftime(s.taken_at, '%Y-%m-%dT%H:%M:%SZ') as taken, s.account, s.source, s.uri,
            (select count(*) from snapshot_resources r where r.snapshot_id = s.snapshot_id) as resources,
            (select count(*) from snapshot_gaps g where g.snapshot_id = s.snapshot_id) as gaps
     from snapshots s order by s.taken_at desc, s.snapshot_id desc`,
  );
  return rows.map((r) => ({ id: r.id, takenAt: r.taken, account: r.account, source: r.source, uri: r.uri, resources: Number(r.resources), gaps: Number(r.gaps) }));
}

/** No snapshot matches what was asked. */
export class SnapshotNotFoundError extends TrailhoundError {
  constructor(message: string) {
    super('SNAPSHOT_NOT_FOUND', message, ExitCode.usage);
  }
}

/**
 * The snapshot to join with: `which` is a snapshot id, or a time (the newest taken at or
 * before it), or absent (the newest). Limited to `accounts` when given. null when the store
 * holds none; throws when `which` names none.
 */
export async function loadSnapshot(store: Store, which?: string, accounts: readonly string[] = []): Promise<StoredSnapshot | null> {
  const byId = which ? await store.one<{ id: string }>('select snapshot_id as id from snapshots where snapshot_id = $id', { id: which }) : undefined;
  let id = byId?.id;
  if (!id) {
    let before: string | null = null;
    if (which) {
      try {
        before = parseInstant(which).toISOString();
      } catch {
        throw new SnapshotNotFoundError(`no snapshot "${which}" in the store, and it is not a time; "trailhound snapshot --list" lists them`);
      }
    }
    const [row] = await store.all<{ id: string }>(
      `select snapshot_id as id from snapshots
       where ($before::varchar is null or taken_at <= $before::timestamptz) and (len($accounts) = 0 or account is null or list_contains($accounts, account))
       order by taken_at desc, snapshot_id desc limit 1`,
      { before, accounts: listValue([...accounts]) },
      { before: VARCHAR, accounts: LIST(VARCHAR) },
    );
    if (!row) {
      if (which) throw new SnapshotNotFoundError(`no snapshot taken at or before ${which}; "trailhound snapshot --list" lists them`);
      return null;
    }
    id = row.id;
  }
  return readSnapshot(store, id);
}

async function readSnapshot(store: Store, id: string): Promise<StoredSnapshot> {
  const head = (await store.one<Record<string, unknown>>(
    `select snapshot_id, strftime(taken_at, '%Y-%m-%dT%H:%M:%S.%gZ') as taken, strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%gZ') as finished, account, caller_arn, source, uri, sha256,
            duration_ms, calls, tool_version, regions::varchar as regions, credential_report::varchar as report
     from snapshots where snapshot_id = $id`,
    { id },
  ))!;
  const resources = await store.all<Record<string, unknown>>(
    `select kind, region, id, arn, name, state, type, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') as created, creator, tags::varchar as tags, detail::varchar as detail
     from snapshot_resources where snapshot_id = $id order by kind, region nulls first, id`,
    { id },
  );
  const gaps = await store.all<Record<string, unknown>>('select service, region, call, reason from snapshot_gaps where snapshot_id = $id order by region nulls first, call', { id });
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    format: 'trailhound-snapshot',
    version: 1,
    id,
    takenAt: String(head['taken']),
    finishedAt: String(head['finished'] ?? head['taken']),
    durationMs: Number(head['duration_ms'] ?? 0),
    account: str(head['account']),
    callerArn: str(head['caller_arn']),
    toolVersion: String(head['tool_version'] ?? ''),
    calls: Number(head['calls'] ?? 0),
    regions: JSON.parse(String(head['regions'] ?? '[]')) as SnapshotRegion[],
    credentialReport: head['report'] ? (JSON.parse(String(head['report'])) as Array<Record<string, string>>) : null,
    resources: resources.map((r) => ({
      kind: r['kind'] as SnapshotResource['kind'],
      region: str(r['region']),
      id: String(r['id']),
      arn: str(r['arn']),
      name: str(r['name']),
      state: str(r['state']),
      type: str(r['type']),
      createdAt: str(r['created']),
      creator: str(r['creator']),
      tags: JSON.parse(String(r['tags'] ?? '{}')) as Record<string, string>,
      detail: JSON.parse(String(r['detail'] ?? '{}')) as Record<string, unknown>,
    })),
    gaps: gaps.map((g) => ({ service: String(g['service']), region: str(g['region']), call: String(g['call']), reason: String(g['reason']) })),
    source: String(head['source']),
    uri: str(head['uri']),
    sha256: str(head['sha256']),
  };
}
