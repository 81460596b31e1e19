import { ExitCode } from '../core/errors.js';
import { counted } from '../core/words.js';
import { terminalSafe } from '../report/text-safety.js';
import { Store } from '../store/store.js';
import { verifyEvidence, type VerifyReport } from '../verify/verify.js';
import { parseScope, storePath, type ScopeOptions } from './options.js';

interface VerifyCliOptions extends ScopeOptions {
  readonly db?: string;
  readonly fetchKeys?: boolean;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly format: 'text' | 'json';
}

/** `trailhound verify`: checks the evidence against its digest files; exit code 3 when anything is modified, missing or invalid. */
export async function verifyCommand(opts: VerifyCliOptions): Promise<void> {
  const scope = parseScope(opts);
  // The SDK warns on Node 20 about its own future releases; trailhound pins the SDK it was tested with.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const store = await Store.open(storePath(opts), { mustExist: true });
  let report: VerifyReport;
  try {
    report = await verifyEvidence({
      store,
      scope,
      fetchKeys: opts.fetchKeys === true,
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.endpointUrl ? { endpointUrl: opts.endpointUrl } : {}),
    });
  } finally {
    store.close();
  }
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ ...report, results: undefined }, null, 2)}\n` : formatVerify(report));
  process.exitCode = report.intact ? ExitCode.ok : ExitCode.partial;
}

/** The loaded files whose stored events have no digest to compare with, and why. */
function notComparable(s: VerifyReport['storedRecords']): string {
  const parts = [
    s.notRecorded ? `${s.notRecorded.toLocaleString('en-US')} loaded by an older trailhound` : '',
    s.pending ? `${s.pending.toLocaleString('en-US')} whose load was cut off before its digest was taken (the next ingest takes it)` : '',
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join('; ')}: not comparable)` : '';
}

/** The first line: never "intact" for what could not be checked. */
function headline(r: VerifyReport): string {
  const files = `${r.unchecked.files.toLocaleString('en-US')} loaded file${r.unchecked.files === 1 ? '' : 's'}`;
  switch (r.verdict) {
    case 'intact':
      return 'Evidence intact';
    case 'partly-checked':
      return `Evidence intact where checked; integrity could not be checked for ${files} (see note)`;
    case 'not-checked':
      return `Evidence NOT CHECKED: integrity could not be checked for ${files}${r.unchecked.files > 0 ? ' (see note)' : ''}`;
    case 'not-intact':
      return 'EVIDENCE NOT INTACT';
  }
}

/** The human report of a verification. */
export function formatVerify(r: VerifyReport): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `${headline(r)} (verify run ${r.verifyRunId}, ${r.seconds} s)`,
    `  digests ${n(r.digests.total)}: signature valid ${n(r.digests.signatureOk)}, hashes only ${n(r.digests.unverified)}, invalid ${n(r.digests.invalid)}, modified ${n(r.digests.modified)}, missing ${n(r.digests.missing)}`,
    `  log files listed in digests ${n(r.logFiles.listed)}: verified ${n(r.logFiles.verified)}, modified ${n(r.logFiles.modified)}, missing ${n(r.logFiles.missing)}, unreadable ${n(r.logFiles.unreadable)}`,
    `  log files in no digest ${n(r.logFiles.notInDigest)}, breaks in the digest chain ${n(r.digestGaps)}, silent hours in active regions ${n(r.silentHours)}`,
    `  stored events of ${counted(r.storedRecords.inputs, 'loaded file')} compared with what was loaded: modified ${n(r.storedRecords.modified)}${notComparable(r.storedRecords)}`,
  ];
  if (r.digests.unverified > 0) lines.push('  (signatures are checked for digests fetched with ingest s3:// when --fetch-keys gets the public keys; hashes are always checked)');
  for (const note of r.notes) lines.push(`  note: ${terminalSafe(note)}`);
  if (r.problems.length > 0) {
    lines.push('Findings:');
    for (const p of r.problems) {
      const span = p.from ? ` ${p.from}${p.to ? ` .. ${p.to}` : ''}` : '';
      const where = [p.account, p.region].filter(Boolean).join('/');
      lines.push(`  ${p.status.padEnd(14)}${span}${where ? ` ${where}` : ''} ${terminalSafe(p.uri ?? '')}`.trimEnd());
      lines.push(`      ${terminalSafe(p.detail)}`);
    }
  }
  lines.push('Results are stored in verify_results (trailhound query "select * from verify_results").');
  return `${lines.join('\n')}\n`;
}
