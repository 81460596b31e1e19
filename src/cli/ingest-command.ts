import { SingleBar } from 'cli-progress';
import { ExitCode, UsageError } from '../core/errors.js';
import { ingestFiles, type IngestProgress, type IngestSummary } from '../commands/ingest.js';
import { terminalSafe } from '../report/text-safety.js';
import { Store } from '../store/store.js';
import { parseScope, positiveNumber, storePath, type ScopeOptions } from './options.js';

interface IngestCliOptions extends ScopeOptions {
  readonly db?: string;
  readonly maxFileMb: string;
  readonly batchMb: string;
  readonly memoryLimit: string;
  readonly format: 'text' | 'json';
  readonly progress: boolean;
}

/** `trailhound ingest PATH…`: loads, prints the summary, and sets the exit code (3 when anything was skipped). */
export async function ingestCommand(paths: readonly string[], opts: IngestCliOptions): Promise<void> {
  const scope = parseScope(opts);
  const maxFileBytes = Math.round(positiveNumber('--max-file-mb', opts.maxFileMb) * 1024 * 1024);
  const batchBytes = Math.round(positiveNumber('--batch-mb', opts.batchMb) * 1024 * 1024);
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(opts.memoryLimit)) {
    throw new UsageError(`--memory-limit takes a size such as 1GB or 512MB, not "${opts.memoryLimit}"`);
  }
  const store = await Store.open(storePath(opts), { memoryLimit: opts.memoryLimit });
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ntrailhound: stopping after the current batch (press Ctrl-C again to quit at once; nothing committed is lost)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = opts.progress && process.stderr.isTTY ? new ProgressView() : undefined;
  let summary: IngestSummary;
  try {
    summary = await ingestFiles({ paths, store, scope, maxFileBytes, batchBytes, signal: controller.signal, onProgress: (p) => progress?.update(p) });
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
  }
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary, store.path));
  process.exitCode = summary.status === 'interrupted' ? 130 : summary.skipped.length > 0 ? ExitCode.partial : ExitCode.ok;
}

/** The human summary of an ingest. */
export function formatSummary(s: IngestSummary, dbPath: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `${s.status === 'interrupted' ? 'Interrupted: loaded' : 'Loaded'} ${n(s.eventsLoaded)} events from ${n(s.filesRead - s.digestFiles)} log files into ${terminalSafe(dbPath)} (run ${s.runId}, ${s.seconds} s)`,
    `  files found ${n(s.filesFound)}, already ingested ${n(s.alreadyIngested)}, digest files recorded ${n(s.digestFiles)}, skipped ${n(s.skipped.length)}`,
    `  duplicate events ${n(s.duplicates)}`,
  ];
  if (s.firstEventTime) lines.push(`  time range ${s.firstEventTime} .. ${s.lastEventTime}`);
  if (s.accounts.length) lines.push(`  accounts ${s.accounts.map(terminalSafe).join(', ')}`);
  if (s.regions.length) lines.push(`  regions ${s.regions.map(terminalSafe).join(', ')}`);
  if (s.prunedDirectories) lines.push(`  ${n(s.prunedDirectories)} trail folders pruned by scope without being opened`);
  if (s.skipped.length) {
    lines.push(`Skipped ${s.skipped.length} input${s.skipped.length === 1 ? '' : 's'}:`);
    for (const item of s.skipped) lines.push(`  ${terminalSafe(item.path)}: ${terminalSafe(item.reason)}`);
  }
  if (s.warnings.length) {
    lines.push('Warnings:');
    for (const item of s.warnings) lines.push(`  ${terminalSafe(item.path)}: ${terminalSafe(item.reason)}`);
  }
  if (s.status === 'interrupted') lines.push('Run the same command again to finish: files already loaded are passed over.');
  return `${lines.join('\n')}\n`;
}

class ProgressView {
  private bar: SingleBar | undefined;
  private phase: IngestProgress['phase'] | undefined;

  update(p: IngestProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      const label = p.phase === 'scan' ? 'hashing ' : 'loading ';
      this.bar = new SingleBar({
        format: `${label} [{bar}] {value}/{total} files | {events} events | {eta_formatted} left`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      });
      this.bar.start(p.total, 0, { events: 0 });
    }
    this.bar?.update(p.done, { events: p.events.toLocaleString('en-US') });
  }

  stop(): void {
    this.bar?.stop();
  }
}
