/**
 * `trailhound snapshot`: the account's live state into the store (and/or a document for
 * another machine), or the list of snapshots the store holds.
 */
import { ExitCode, UsageError } from '../core/errors.js';
import { counted } from '../core/words.js';
import { renderTable } from '../report/tabular.js';
import { terminalSafe } from '../report/text-safety.js';
import { takeSnapshot } from '../snapshot/collect.js';
import { documentDigest, listSnapshots, saveSnapshot } from '../snapshot/store.js';
import type { SnapshotDocument } from '../snapshot/types.js';
import { Store } from '../store/store.js';
import { positiveNumber, storePath, uniqueList } from './options.js';
import { writeOutputFile } from './output-file.js';

export interface SnapshotCommandOptions {
  readonly db?: string;
  readonly out?: string;
  readonly list?: boolean;
  readonly profile?: string;
  readonly region?: string[];
  readonly endpointUrl?: string;
  readonly concurrency?: string;
  readonly format: 'text' | 'json';
  readonly progress: boolean;
}

export async function snapshotCommand(opts: SnapshotCommandOptions): Promise<void> {
  if (opts.list) return listCommand(opts);
  // --out alone is for the responder without a store: the document is the result.
  const toStore = !opts.out || opts.db !== undefined;
  const path = storePath(opts);
  const store = toStore ? await Store.open(path) : undefined;
  try {
    const regions = uniqueList(opts.region);
    const doc = await takeSnapshot({
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(regions.length ? { regions, region: regions[0]! } : {}),
      ...(opts.endpointUrl ? { endpointUrl: opts.endpointUrl } : {}),
      ...(opts.concurrency ? { concurrency: positiveNumber('--concurrency', opts.concurrency) } : {}),
      ...(opts.progress
        ? { onProgress: (p) => process.stderr.write(`snapshot: ${p.region ?? 'global'} ${p.service}: ${counted(p.resources, 'resource')}${p.gaps ? `, ${counted(p.gaps, 'gap')}` : ''} (${p.ms} ms)\n`) }
        : {}),
    });
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (opts.out) await writeOutputFile(opts.out, text, toStore ? path : undefined);
    if (store) await saveSnapshot(store, doc, { source: 'aws', uri: opts.endpointUrl ?? (opts.profile ? `profile:${opts.profile}` : 'aws') }, documentDigest(text));
    const summary = summarise(doc, { stored: store ? path : null, out: opts.out ?? null });
    process.stdout.write(opts.format === 'json' ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(doc, summary));
    process.exitCode = doc.gaps.length > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    store?.close();
  }
}

async function listCommand(opts: SnapshotCommandOptions): Promise<void> {
  if (opts.out || opts.profile || opts.region || opts.endpointUrl) throw new UsageError('--list reads the store only; leave out --out, --profile, --region and --endpoint-url');
  const store = await Store.open(storePath(opts), { readOnly: true, mustExist: true });
  try {
    const rows = await listSnapshots(store);
    if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    if (rows.length === 0) return void process.stdout.write('no snapshots in the store; "trailhound snapshot" takes one, "trailhound ingest FILE" loads one written with --out\n');
    process.stdout.write(renderTable({ columns: ['id', 'takenAt', 'account', 'source', 'uri', 'resources', 'gaps'], rows: rows.map((r) => ({ ...r, uri: r.uri ? terminalSafe(r.uri) : null })) }, 'table'));
  } finally {
    store.close();
  }
}

/** What a snapshot found, in counts, with its AWS-flagged users. */
function summarise(doc: SnapshotDocument, where: { stored: string | null; out: string | null }) {
  const byKind: Record<string, number> = {};
  for (const r of doc.resources) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  return {
    id: doc.id,
    takenAt: doc.takenAt,
    account: doc.account,
    callerArn: doc.callerArn,
    seconds: Math.round(doc.durationMs / 100) / 10,
    calls: doc.calls,
    regionsRead: doc.regions.filter((r) => r.scanned).map((r) => r.name),
    regionsNotEnabled: doc.regions.filter((r) => !r.scanned).map((r) => r.name),
    resources: byKind,
    gaps: doc.gaps,
    // AWS attaches these when it finds a user's key exposed: the first thing a responder wants to know.
    quarantined: doc.resources.filter((r) => r.kind === 'iam:user' && Array.isArray(r.detail['quarantinePolicies']) && (r.detail['quarantinePolicies'] as unknown[]).length > 0).map((r) => ({ user: r.id, policies: r.detail['quarantinePolicies'] as string[] })),
    stored: where.stored,
    out: where.out,
  };
}

function renderSummary(doc: SnapshotDocument, s: ReturnType<typeof summarise>): string {
  const lines = [
    `snapshot ${s.id} of account ${s.account ?? 'unknown'} by ${terminalSafe(s.callerArn ?? 'unknown')}: ${counted(doc.resources.length, 'resource')} in ${counted(s.regionsRead.length, 'region')} read` +
      `${s.regionsNotEnabled.length ? ` (${s.regionsNotEnabled.length} not enabled)` : ''}, ${counted(s.calls, 'call')}, ${s.seconds} s`,
  ];
  const kinds = Object.entries(s.resources).sort(([a], [b]) => a.localeCompare(b));
  if (kinds.length) lines.push('', renderTable({ columns: ['kind', 'count'], rows: kinds.map(([kind, count]) => ({ kind, count })) }, 'table').trimEnd());
  if (s.quarantined.length) {
    lines.push('', 'AWS has quarantined (it found their keys exposed):');
    for (const q of s.quarantined) lines.push(`  user ${terminalSafe(q.user)}: ${q.policies.map((p) => terminalSafe(p.split('/').at(-1) ?? p)).join(', ')}`);
  }
  if (s.gaps.length) {
    lines.push('', `Gaps (${counted(s.gaps.length, 'call')} failed; what they would have listed is unknown):`);
    for (const g of s.gaps) lines.push(`  ${g.region ?? 'global'} ${g.call}: ${terminalSafe(g.reason)}`);
  }
  lines.push('', [s.stored ? `stored in ${s.stored}` : null, s.out ? `written to ${s.out}` : null].filter(Boolean).join('; ') + (s.stored ? '; "trailhound remediate" now marks each action open or done' : '; load it with "trailhound ingest FILE"'));
  return `${lines.join('\n')}\n`;
}
