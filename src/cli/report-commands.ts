import { ExitCode } from '../core/errors.js';
import { parseInstant } from '../core/time.js';
import { counted } from '../core/words.js';
import type { RemediationPlan } from '../remediate/types.js';
import { terminalSafe } from '../report/text-safety.js';
import { planFromStore, timelineFromStore, type ReportOptions } from '../report/from-store.js';
import { renderTimelineHtml } from '../report/html-renderer.js';
import { renderPlanJson, renderPlanMarkdown, renderPlanShell } from '../report/plan-renderers.js';
import { renderTimelineCsv, renderTimelineJson, renderTimelineJsonl, renderTimelineMarkdown, renderTimelineTimesketch } from '../report/timeline-renderers.js';
import { Store } from '../store/store.js';
import { checkOutputPath, writeOutputFile } from './output-file.js';
import { parseMinSeverity, parsePivot, parseScope, positiveNumber, storePath, type ScopeOptions } from './options.js';

/** Options `timeline` and `remediate` share, as commander gives them. */
export interface ReportCommandOptions extends ScopeOptions {
  readonly db?: string;
  readonly key?: string[];
  readonly ip?: string[];
  readonly principal?: string[];
  readonly session?: string[];
  readonly minSeverity?: string;
  readonly maxEvents?: string;
  readonly containedAt?: string;
  readonly snapshot?: string;
  readonly out?: string;
}

/** The options of `trailhound timeline`. */
export interface TimelineCommandOptions extends ReportCommandOptions {
  readonly format: 'md' | 'json' | 'csv' | 'jsonl' | 'timesketch' | 'html';
  readonly maxRows?: string;
  readonly limit?: string;
  readonly findingsOnly?: boolean;
  readonly generatedAt?: string;
}

/** The options of `trailhound remediate`. */
export interface RemediateCommandOptions extends ReportCommandOptions {
  readonly format: 'md' | 'json' | 'sh';
  readonly verify?: boolean;
}

/** Turns the command line into report options (usage errors before the store is opened). */
export function reportOptions(opts: ReportCommandOptions & { readonly generatedAt?: string }, now: Date = new Date()): ReportOptions {
  const scope = parseScope(opts, now);
  const minSeverity = parseMinSeverity(opts.minSeverity);
  return {
    ...parsePivot(opts),
    ...(scope.since ? { since: scope.since } : {}),
    ...(scope.until ? { until: scope.until } : {}),
    ...(minSeverity ? { minSeverity } : {}),
    ...(opts.maxEvents ? { eventLimit: Math.floor(positiveNumber('--max-events', opts.maxEvents)) } : {}),
    ...(opts.generatedAt ? { generatedAt: parseInstant(opts.generatedAt, now) } : {}),
    ...(opts.containedAt ? { containedAt: parseInstant(opts.containedAt, now) } : {}),
    ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
  };
}

/** Writes the output to --out (whole or not at all, never over the store, a link or a device) or to stdout. */
async function emit(text: string, out: string | undefined, storeFile: string): Promise<void> {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  await writeOutputFile(out, text, storeFile);
}

/** `trailhound timeline`: findings interleaved with their events, in the format asked for. */
export async function timelineCommand(opts: TimelineCommandOptions): Promise<void> {
  const options = reportOptions(opts);
  const limit = opts.limit ?? opts.maxRows;
  const maxRows = limit ? Math.floor(positiveNumber(opts.limit ? '--limit' : '--max-rows', limit)) : undefined;
  if (opts.out) checkOutputPath(opts.out, storePath(opts));
  const store = await Store.open(storePath(opts), { readOnly: true });
  let text: string;
  try {
    const report = await timelineFromStore(store, options);
    switch (opts.format) {
      case 'csv':
        text = renderTimelineCsv(report);
        break;
      case 'json':
        text = renderTimelineJson(report);
        break;
      case 'jsonl':
        text = renderTimelineJsonl(report);
        break;
      case 'timesketch':
        text = renderTimelineTimesketch(report);
        break;
      case 'html':
        text = renderTimelineHtml(report);
        break;
      default:
        text = renderTimelineMarkdown(report, { ...(maxRows ? { maxRows } : {}), ...(opts.findingsOnly ? { findingsOnly: true } : {}) });
    }
  } finally {
    store.close();
  }
  await emit(text, opts.out, storePath(opts));
}

/** `trailhound remediate`: the remediation plan as a checklist, JSON or a commented aws-cli script. */
export async function remediateCommand(opts: RemediateCommandOptions): Promise<void> {
  const options = reportOptions(opts);
  if (opts.out) checkOutputPath(opts.out, storePath(opts));
  const store = await Store.open(storePath(opts), { readOnly: true });
  let text: string;
  let plan: RemediationPlan;
  try {
    plan = await planFromStore(store, options);
    text = opts.format === 'json' ? renderPlanJson(plan) : opts.format === 'sh' ? renderPlanShell(plan) : renderPlanMarkdown(plan);
  } finally {
    store.close();
  }
  await emit(text, opts.out, storePath(opts));
  if (opts.verify) verifyPlan(plan);
}

/**
 * `remediate --verify`: the plan is finished when the snapshot shows no action open. Without a
 * snapshot nothing can be verified, which is an error, not a pass.
 */
function verifyPlan(plan: RemediationPlan): void {
  const open = plan.steps.flatMap((s) => s.actions.filter((a) => a.state === 'open'));
  if (!plan.snapshot) {
    process.stderr.write('trailhound: --verify needs an account snapshot: run "trailhound snapshot" (or ingest one written with --out), then verify again\n');
    process.exitCode = ExitCode.usage;
    return;
  }
  process.stderr.write(open.length
    ? `trailhound: ${counted(open.length, 'action')} still open in snapshot ${plan.snapshot.id} (${plan.snapshot.takenAt}): ${open.slice(0, 5).map((a) => `${a.kind} ${terminalSafe(a.target)}`).join('; ')}${open.length > 5 ? '; …' : ''}\n`
    : `trailhound: no action open in snapshot ${plan.snapshot.id} (${plan.snapshot.takenAt})\n`);
  process.exitCode = open.length ? ExitCode.partial : ExitCode.ok;
}
