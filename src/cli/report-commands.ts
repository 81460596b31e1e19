import { parseInstant } from '../core/time.js';
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
  try {
    const plan = await planFromStore(store, options);
    text = opts.format === 'json' ? renderPlanJson(plan) : opts.format === 'sh' ? renderPlanShell(plan) : renderPlanMarkdown(plan);
  } finally {
    store.close();
  }
  await emit(text, opts.out, storePath(opts));
}
