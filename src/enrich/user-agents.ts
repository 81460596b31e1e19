import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../core/version.js';
import { CatalogError } from '../detect/catalog.js';

/** The class of a user agent (see queries/user-agents.yml). */
export type UserAgentClass = string;

/** One rule of queries/user-agents.yml. */
export interface UserAgentRule {
  readonly class: UserAgentClass;
  readonly pattern: RegExp;
  readonly why: string;
}

/** Classes that no person or legitimate automation of the account should show. */
export const HOSTILE_CLASSES: readonly UserAgentClass[] = ['offensive-tool', 'attack-os'];

/** Loads and checks a user-agent rule file: each entry a class, a valid pattern and a reason. */
export function loadUserAgentRules(path = join(packageRoot(), 'queries', 'user-agents.yml')): UserAgentRule[] {
  const doc = parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(doc)) throw new CatalogError(`${path}: expected a list of {class, pattern, why}`);
  return doc.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>;
    if (typeof e?.['class'] !== 'string' || !/^[a-z][a-z0-9-]*$/.test(e['class'])) throw new CatalogError(`${path}: entry ${i + 1} needs a class (lowercase, dashes)`);
    if (typeof e['why'] !== 'string' || e['why'].length < 10) throw new CatalogError(`${path}: entry ${i + 1} (${e['class']}) needs a reason (why)`);
    if (typeof e['pattern'] !== 'string') throw new CatalogError(`${path}: entry ${i + 1} (${e['class']}) needs a pattern`);
    try {
      return { class: e['class'], pattern: new RegExp(e['pattern'], 'i'), why: e['why'] };
    } catch (error) {
      throw new CatalogError(`${path}: entry ${i + 1} (${e['class']}): bad pattern (${(error as Error).message})`, );
    }
  });
}

let shipped: UserAgentRule[] | undefined;

/** The class of one user agent under the given rules (default: the shipped ones); `other` when none matches, null for none. */
export function classifyUserAgent(userAgent: string | null | undefined, rules: readonly UserAgentRule[] = (shipped ??= loadUserAgentRules())): UserAgentClass | null {
  if (!userAgent) return null;
  // Agents are attacker-controlled and can be long: a bounded prefix is enough to classify.
  const text = userAgent.slice(0, 1024);
  for (const rule of rules) if (rule.pattern.test(text)) return rule.class;
  return 'other';
}
