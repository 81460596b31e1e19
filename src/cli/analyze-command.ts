import { analyze, MAX_LINEAGE_DEPTH, type AnalyzeOptions } from '../analyze/analyze.js';
import { renderAnalyzeMarkdown, renderAnalyzeText } from '../analyze/render.js';
import type { EvidenceSource } from '../analyze/source.js';
import type { AnalyzeResult, PivotSpec } from '../analyze/types.js';
import { NoMatchError, UsageError } from '../core/errors.js';
import { scopeOf } from '../core/scope.js';
import { DuckDbEngine } from '../engines/duckdb-engine.js';
import { creatingChanges, nowView } from '../snapshot/join.js';
import { loadSnapshot } from '../snapshot/store.js';
import { wantsAthena, withEngine, type EngineCliOptions } from './engine-options.js';
import { parsePivot, parseScope, positiveNumber, type ScopeOptions } from './options.js';

/** The options of `trailhound analyze` as commander gives them. */
export interface AnalyzeCommandOptions extends ScopeOptions, EngineCliOptions {
  readonly key?: string[];
  readonly ip?: string[];
  readonly principal?: string[];
  readonly session?: string[];
  readonly depth?: string;
  readonly maxEvents?: string;
  readonly format: 'text' | 'json' | 'md';
  readonly snapshot?: string;
  readonly unexplained?: boolean;
}

/** Turns the command line into a pivot. */
export function pivotSpec(opts: AnalyzeCommandOptions, now: Date = new Date()): PivotSpec {
  const scope = parseScope(opts, now);
  const depth = opts.depth === undefined ? undefined : Number(opts.depth);
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 0 || depth > MAX_LINEAGE_DEPTH)) throw new UsageError(`--depth takes a whole number from 0 to ${MAX_LINEAGE_DEPTH}, not "${opts.depth}"`);
  return {
    ...parsePivot(opts),
    ...scope,
    ...(depth !== undefined ? { maxDepth: depth } : {}),
  };
}

/** Renders the answer in the format asked for. */
export function renderAnalyze(result: AnalyzeResult, format: AnalyzeCommandOptions['format']): string {
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  if (format === 'md') return renderAnalyzeMarkdown(result);
  return renderAnalyzeText(result);
}

/** Runs an investigation on any evidence source (the local store, or Athena). */
export async function analyzeOn(source: EvidenceSource, opts: AnalyzeCommandOptions): Promise<AnalyzeResult> {
  const spec = pivotSpec(opts);
  const options: AnalyzeOptions = opts.maxEvents ? { eventLimit: Math.floor(positiveNumber('--max-events', opts.maxEvents)) } : {};
  return analyze(source, spec, options);
}

/**
 * Writes the answer; a pivot value that matched nothing fails the command (after the answer,
 * when other values matched), so that a mistyped key never reads as a clean one.
 */
export function writeAnalyze(result: AnalyzeResult, format: AnalyzeCommandOptions['format']): void {
  const total = result.lineage.length;
  if (result.unmatched.length < total || format === 'json') process.stdout.write(renderAnalyze(result, format));
  if (result.unmatched.length > 0) throw new NoMatchError(result.unmatched);
}

/** `trailhound analyze`: the pivot's activity, its credential lineage, blast radius and coverage. */
export async function analyzeCommand(opts: AnalyzeCommandOptions): Promise<void> {
  const spec = pivotSpec(opts); // usage errors before the store or Athena is opened
  const scope = scopeOf(spec);
  if (opts.snapshot && wantsAthena(opts)) throw new UsageError('--snapshot reads the local store; it does not go with --engine athena');
  const result = await withEngine(opts, { readOnly: true }, async (engine, signal) => {
    const found = await analyzeOn(engine.evidence(scope, signal), opts);
    // The account snapshot lives in the local store; Athena has none to join.
    if (!(engine instanceof DuckDbEngine)) return found;
    const snap = await loadSnapshot(engine.store, opts.snapshot, found.pivot.accounts);
    if (!snap) return found;
    return { ...found, now: await nowView(engine.store, snap, creatingChanges([found.blastRadius]), found.coverage, { unexplained: opts.unexplained === true }) };
  });
  writeAnalyze(result, opts.format);
}
