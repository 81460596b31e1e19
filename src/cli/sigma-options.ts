import { loadSigmaRules, type SigmaCatalog } from '../sigma/loader.js';
import { terminalSafe } from '../report/text-safety.js';

/** What sigmaForCli returns without --sigma. */
const NO_SIGMA: SigmaCatalog = { detections: [], untranslated: [] };

/** The Sigma options of `detect` and `detections`. */
export interface SigmaCliOptions {
  readonly sigma?: string[];
  /** False with --no-builtin: only the Sigma rules run. */
  readonly builtin?: boolean;
}

/**
 * Loads the rules named by --sigma; each rule that does not run gets one line on stderr
 * naming its file and the reason (unless `quiet`, when the caller lists them itself).
 */
export function sigmaForCli(opts: SigmaCliOptions & { readonly quiet?: boolean }): SigmaCatalog {
  if (!opts.sigma?.length) return NO_SIGMA;
  const catalog = loadSigmaRules(opts.sigma);
  if (!opts.quiet) {
    for (const u of catalog.untranslated) process.stderr.write(`trailhound: Sigma rule ${terminalSafe(u.path)}${u.id ? ` (${terminalSafe(u.id)})` : ''} not run: ${terminalSafe(u.reason)}\n`);
  }
  return catalog;
}

/** The `"sigma"` member of `detect --format json` (absent without --sigma). */
export function sigmaSummary(catalog: SigmaCatalog): Record<string, unknown> {
  if (catalog === NO_SIGMA) return {};
  return {
    sigma: {
      translated: catalog.detections.length,
      untranslated: catalog.untranslated.map((u) => ({ id: u.id, path: u.path, reason: u.reason })),
      ...(catalog.correlated?.length ? { correlated: catalog.correlated.map((c) => ({ id: c.id, path: c.path, by: c.by })) } : {}),
    },
  };
}
