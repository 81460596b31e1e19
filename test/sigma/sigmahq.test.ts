/**
 * The 57 SigmaHQ CloudTrail rules on the Stratus Red Team detonation logs (both in
 * ../shared/datasets/, read in place: the rules' licence keeps them out of this repository).
 * Each rule's SQL findings are compared with a small evaluator written here from the Sigma
 * specification, which shares no code with the translator. Then the same rules run through
 * the Athena dialect layer (on the Athena stand-in) and must give the same findings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runDetections } from '../../src/detect/runner.js';
import type { Finding } from '../../src/detect/finding.js';
import { loadSigmaRules, type SigmaDetection } from '../../src/sigma/loader.js';
import { Store } from '../../src/store/store.js';
import { ingest } from '../helpers/store.js';
import { detectOnAthena } from './on-athena.js';

// ../shared/datasets beside the package root, as in CI; TRAILHOUND_DATASETS points elsewhere (a worktree).
const DATASETS = process.env['TRAILHOUND_DATASETS'] ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets');
const RULES = join(DATASETS, 'sigma-cloudtrail');
const LOGS = join(DATASETS, 'stratus-red-team');
const present = existsSync(RULES) && existsSync(LOGS);
if (!present) console.warn(`SigmaHQ test skipped: ${RULES} and ${LOGS} are not present (they come with ../shared/datasets in CI)`);

type Rec = Record<string, unknown>;

// ---- An evaluator of Sigma rules over JSON records, from the specification. ----

/** The value at a dotted path, undefined when a step is missing. */
function at(record: Rec, field: string): unknown {
  let value: unknown = record;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Rec)[key];
  }
  return value;
}

/** A record value as text: strings as they are, numbers and booleans as JSON writes them, objects as JSON. */
function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A Sigma wildcard value as a regular expression (\\* \\? \\\\ escaped; * and ? wild). */
function wildcard(value: string, prefix: string, suffix: string, cased: boolean): RegExp {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const next = value[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      out += `\\${next}`;
      i++;
    } else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${prefix}${out}${suffix}$`, cased ? '' : 'i');
}

function matchItem(record: Rec, key: string, expected: unknown): boolean {
  const [field, ...mods] = key.split('|');
  const values = Array.isArray(expected) ? expected : [expected];
  const actual = field ? asText(at(record, field!)) : JSON.stringify(record);
  const one = (v: unknown): boolean => {
    if (mods.includes('exists')) return (actual !== null) === v;
    if (v === null) return actual === null;
    if (actual === null) return false;
    const text = String(v);
    if (mods.includes('re')) return new RegExp(text, mods.includes('i') ? 'i' : '').test(actual);
    if (mods.includes('fieldref')) {
      const other = asText(at(record, text));
      return other !== null && (mods.includes('cased') ? actual === other : actual.toLowerCase() === other.toLowerCase());
    }
    const any = '[\\s\\S]*';
    const keyword = !field;
    const prefix = keyword || mods.includes('contains') || mods.includes('endswith') ? any : '';
    const suffix = keyword || mods.includes('contains') || mods.includes('startswith') ? any : '';
    const unknown = mods.filter((m) => !['contains', 'startswith', 'endswith', 'all', 'cased'].includes(m));
    if (unknown.length) throw new Error(`evaluator: modifier ${unknown.join('|')} is not implemented here`);
    return wildcard(text, prefix, suffix, mods.includes('cased')).test(actual);
  };
  return mods.includes('all') ? values.every(one) : values.some(one);
}

function matchSearch(record: Rec, search: unknown): boolean {
  if (Array.isArray(search)) {
    if (search.every((s) => s !== null && typeof s === 'object')) return search.some((s) => matchSearch(record, s));
    return matchItem(record, '', search);
  }
  return Object.entries(search as Rec).every(([key, value]) => matchItem(record, key, value));
}

/** Evaluates a condition: or < and < not < "x of" < parentheses. */
function matchCondition(record: Rec, condition: string, detection: Rec): boolean {
  const names = Object.keys(detection).filter((k) => k !== 'condition');
  const tokens = condition.replace(/\(/g, ' ( ').replace(/\)/g, ' ) ').trim().split(/\s+/);
  let i = 0;
  const search = (name: string) => matchSearch(record, detection[name]);
  const expr = (): boolean => {
    let value = term();
    while (tokens[i] === 'or') {
      i++;
      const right = term();
      value = value || right;
    }
    return value;
  };
  const term = (): boolean => {
    let value = factor();
    while (tokens[i] === 'and') {
      i++;
      const right = factor();
      value = value && right;
    }
    return value;
  };
  const factor = (): boolean => {
    const t = tokens[i++]!;
    if (t === 'not') return !factor();
    if (t === '(') {
      const value = expr();
      i++;
      return value;
    }
    if ((t === '1' || t === 'all') && tokens[i] === 'of') {
      const pattern = tokens[i + 1]!;
      i += 2;
      const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      const chosen = pattern === 'them' ? names.filter((n) => !n.startsWith('_')) : names.filter((n) => re.test(n));
      return t === 'all' ? chosen.every(search) : chosen.some(search);
    }
    return search(t);
  };
  return expr();
}

function ruleMatches(record: Rec, rule: Rec): boolean {
  const detection = rule['detection'] as Rec;
  const conditions = Array.isArray(detection['condition']) ? (detection['condition'] as string[]) : [detection['condition'] as string];
  return conditions.some((c) => matchCondition(record, c, detection));
}

// ---- The test. ----

describe.skipIf(!present)('SigmaHQ CloudTrail rules on the Stratus Red Team detonation logs', () => {
  let store: Store;
  let records: Rec[];
  let detections: readonly SigmaDetection[];
  let duckdb: Finding[];
  beforeAll(async () => {
    const catalog = loadSigmaRules([RULES]);
    expect(catalog.untranslated).toEqual([]);
    detections = catalog.detections;
    const files = readdirSync(LOGS).filter((f) => f.endsWith('.json')).map((f) => join(LOGS, f));
    records = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as Rec[]);
    store = await Store.open(':memory:');
    await ingest(store, files);
    const result = await runDetections(store, detections);
    expect(result.failures).toEqual([]);
    duckdb = [...result.findings];
  });
  afterAll(() => store?.close());

  it('translates all 57 rules', () => {
    expect(detections).toHaveLength(57);
  });

  it('each rule finds exactly the events the independent evaluator finds', () => {
    const rules = readdirSync(RULES).filter((f) => f.endsWith('.yml')).map((f) => parse(readFileSync(join(RULES, f), 'utf8')) as Rec);
    let fired = 0;
    for (const rule of rules) {
      const id = `sigma:${String(rule['id'])}`;
      const expected = records.filter((r) => ruleMatches(r, rule)).map((r) => String(r['eventID'])).sort();
      const found = duckdb.filter((f) => f.detection === id).flatMap((f) => f.eventIds).sort();
      expect({ id, found }).toEqual({ id, found: expected });
      if (expected.length > 0) fired++;
    }
    // The detonations trigger a good share of the rules: the comparison is not of empty sets.
    expect(fired).toBeGreaterThanOrEqual(10);
  });

  it('gives the same findings through the Athena dialect layer', async () => {
    const onAthena = detections.filter((d) => d.engines.includes('athena'));
    const result = await detectOnAthena(records, onAthena);
    expect(result.failures).toEqual([]);
    expect(result.skipped).toEqual([]);
    const ids = new Set(onAthena.map((d) => d.id));
    const ordered = (list: readonly Finding[]) => list.map((f) => JSON.stringify(f)).sort();
    expect(ordered(result.findings)).toEqual(ordered(duckdb.filter((f) => ids.has(f.detection))));
    expect(onAthena.length).toBeGreaterThanOrEqual(55);
  }, 120_000);
});
