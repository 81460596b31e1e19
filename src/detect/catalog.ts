import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { TrailhoundError, ExitCode } from '../core/errors.js';

/** How bad a finding is, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One event a test case loads: a canonical record of `event`, changed by `with`. */
export interface TestEvent {
  readonly event: string;
  readonly with?: Record<string, unknown>;
  /** How many such events (each with its own eventID); 1 when absent. */
  readonly repeat?: number;
}

/** A case at the bottom of a detection's YAML: these events, and whether the detection fires. */
export interface DetectionTest {
  readonly name: string;
  readonly expect: 'match' | 'attempt' | 'no-match';
  readonly events: readonly TestEvent[];
  /** The severity every finding of the case must have (severity from context), when stated. */
  readonly severity?: Severity;
  /** How many findings the case must give, when stated. */
  readonly findings?: number;
  /** Resources of an account snapshot loaded with the events (detections over `snapshot_resources`). */
  readonly snapshot?: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** A detection: its SQL (queries/<area>/<id>.sql) and metadata (<id>.yml). */
export interface Detection {
  readonly id: string;
  readonly area: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  /** Severity of a failed call (errorCode set) that still shows intent; absent when failures are not reported. */
  readonly attemptSeverity?: Severity;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly references: readonly string[];
  readonly falsePositives: readonly string[];
  /** Benign activity the detection's no-match cases prove silent (`benign:`, optional). */
  readonly benign?: readonly string[];
  readonly remediation: string;
  readonly sql: string;
  readonly tests: readonly DetectionTest[];
  readonly path: string;
  /** The engines the SQL runs on (`engines:` in the YAML; both when absent). */
  readonly engines: readonly Engine[];
  /** Why the detection is limited to some engines (`engineNote:`, required when `engines` leaves one out). */
  readonly engineNote?: string;
  /** Tunable numbers (`thresholds:` in the YAML), already put in `sql` where it says `{{name}}`. */
  readonly thresholds?: Readonly<Record<string, number>>;
  /**
   * Event names (lower case) every match has, when known from the rule itself (a Sigma
   * condition); the runner then reads them from its pre-filtered copy. Absent: read from the SQL.
   */
  readonly eventNames?: readonly string[];
}

/** Where a detection's SQL can run: the local DuckDB store, or Athena through the dialect layer. */
export const ENGINES = ['duckdb', 'athena'] as const;
export type Engine = (typeof ENGINES)[number];

/** A detection file that does not hold what the catalog needs. */
export class CatalogError extends TrailhoundError {
  constructor(message: string) {
    super('CATALOG_INVALID', message, ExitCode.usage);
  }
}

/**
 * The columns every detection returns, in this order; renderers rely on them. A detection
 * that sums up several events (a burst, a gap) may add a column `eventids`, the list of
 * all of them; `eventid` is then the first. A detection whose severity depends on context
 * may add a last column `severity` (one of SEVERITIES; the YAML's severity when null).
 */
export const CONTRACT_COLUMNS = [
  'eventtime',
  'eventid',
  'eventname',
  'actor',
  'access_key_id',
  'sourceipaddress',
  'account',
  'region',
  'resource',
  'outcome',
  'summary',
] as const;

const ID = /^[a-z0-9]+(_[a-z0-9]+)+$/;
const TACTIC = /^TA\d{4}$/;
const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

/** Loads and checks every detection under `dir` (queries/<area>/<id>.yml + .sql), sorted by id. */
export function loadCatalog(dir: string): Detection[] {
  const detections: Detection[] = [];
  for (const area of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    for (const file of readdirSync(join(dir, area)).filter((f) => f.endsWith('.yml')).sort()) {
      detections.push(loadDetection(join(dir, area, file), area, dir));
    }
  }
  const seen = new Set<string>();
  for (const d of detections) {
    if (seen.has(d.id)) throw new CatalogError(`detection id ${d.id} is used twice; ids must be unique`);
    seen.add(d.id);
  }
  return detections.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function loadDetection(ymlPath: string, area: string, root: string): Detection {
  const where = relative(root, ymlPath);
  const fail = (what: string): never => {
    throw new CatalogError(`queries/${where}: ${what}`);
  };
  let meta: Record<string, unknown>;
  try {
    meta = parse(readFileSync(ymlPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const id = basename(ymlPath, '.yml');
  if (meta['id'] !== id) fail(`id must equal the file name (${id})`);
  if (!ID.test(id)) fail('id must be <service>_<resource>_<past-tense verb> in lower case');
  const text = (key: string): string => {
    const value = meta[key];
    if (typeof value !== 'string' || value.trim() === '') fail(`${key} is required`);
    return (value as string).trim();
  };
  const list = (key: string, pattern?: RegExp, required = true): string[] => {
    const value = meta[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(`${key} must be a list of strings`);
    if (required && (value as string[]).length === 0) fail(`${key} must not be empty`);
    for (const v of value as string[]) if (pattern && !pattern.test(v)) fail(`${key}: "${v}" is not well-formed`);
    return value as string[];
  };
  const severity = (key: string): Severity => {
    const value = meta[key];
    if (!SEVERITIES.includes(value as Severity)) fail(`${key} must be one of ${SEVERITIES.join(', ')}`);
    return value as Severity;
  };
  const tests = meta['tests'];
  if (!Array.isArray(tests) || tests.length === 0) fail('tests must list at least one case');
  const cases = (tests as Array<Record<string, unknown>>).map((t, i) => {
    if (typeof t['name'] !== 'string') fail(`tests[${i}].name is required`);
    if (!['match', 'attempt', 'no-match'].includes(t['expect'] as string)) fail(`tests[${i}].expect must be match, attempt or no-match`);
    if (!Array.isArray(t['events']) || t['events'].length === 0) fail(`tests[${i}].events must list events`);
    for (const e of t['events'] as Array<Record<string, unknown>>) if (typeof e['event'] !== 'string') fail(`tests[${i}]: each event needs an event name`);
    if (t['severity'] !== undefined && !SEVERITIES.includes(t['severity'] as Severity)) fail(`tests[${i}].severity must be one of ${SEVERITIES.join(', ')}`);
    if (t['findings'] !== undefined && !(Number.isInteger(t['findings']) && (t['findings'] as number) > 0)) fail(`tests[${i}].findings must be a positive whole number`);
    if (t['snapshot'] !== undefined && !(Array.isArray(t['snapshot']) && (t['snapshot'] as unknown[]).every((r) => typeof r === 'object' && r !== null && typeof (r as Record<string, unknown>)['kind'] === 'string' && typeof (r as Record<string, unknown>)['id'] === 'string'))) {
      fail(`tests[${i}].snapshot must list resources, each with a kind and an id`);
    }
    return t as unknown as DetectionTest;
  });
  if (cases.some((c) => c.expect === 'attempt') && meta['attemptSeverity'] === undefined) {
    fail('a case expects an attempt, so attemptSeverity is required');
  }
  if (!cases.some((c) => c.expect !== 'no-match') || !cases.some((c) => c.expect === 'no-match')) {
    fail('tests need at least one case that fires and one that does not');
  }
  const engines = meta['engines'] === undefined ? [...ENGINES] : list('engines');
  for (const engine of engines) if (!ENGINES.includes(engine as Engine)) fail(`engines: "${engine}" is not one of ${ENGINES.join(', ')}`);
  if (!engines.includes('duckdb')) fail('engines must include duckdb (the detection tests run on it)');
  const limited = engines.length < ENGINES.length;
  if (limited && (typeof meta['engineNote'] !== 'string' || meta['engineNote'].trim() === '')) fail('engineNote must say why the detection does not run on every engine');
  let sql: string;
  try {
    sql = readFileSync(ymlPath.replace(/\.yml$/, '.sql'), 'utf8').trim().replace(/;\s*$/, '');
  } catch {
    return fail(`the SQL file ${id}.sql is missing`);
  }
  const thresholds = meta['thresholds'] ?? {};
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) fail('thresholds must map names to numbers');
  for (const [name, value] of Object.entries(thresholds as Record<string, unknown>)) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) fail(`thresholds: "${name}" must be a lower-case name`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`thresholds.${name} must be a number of 0 or more`);
  }
  sql = applyThresholds(sql, thresholds as Record<string, number>, fail);
  return {
    id,
    area,
    thresholds: thresholds as Record<string, number>,
    title: text('title'),
    description: text('description'),
    severity: severity('severity'),
    ...(meta['attemptSeverity'] !== undefined ? { attemptSeverity: severity('attemptSeverity') } : {}),
    tactics: list('tactics', TACTIC),
    techniques: list('techniques', TECHNIQUE),
    references: list('references', /^https:\/\//),
    falsePositives: list('falsePositives'),
    ...(meta['benign'] !== undefined ? { benign: list('benign') } : {}),
    remediation: text('remediation'),
    sql,
    tests: cases,
    path: ymlPath,
    engines: engines as Engine[],
    ...(limited ? { engineNote: text('engineNote') } : {}),
  };
}

/**
 * Puts a detection's thresholds into its SQL (`{{name}}` → the number): numbers only, checked by
 * the loader, so the text stays safe and the same on every engine. A placeholder without its
 * threshold, or a threshold the SQL never uses, is an error.
 */
function applyThresholds(sql: string, thresholds: Readonly<Record<string, number>>, fail: (what: string) => never): string {
  const used = new Set<string>();
  const out = sql.replace(/\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    if (!(name in thresholds)) fail(`the SQL uses {{${name}}} but thresholds has no ${name}`);
    used.add(name);
    return String(thresholds[name]);
  });
  for (const name of Object.keys(thresholds)) if (!used.has(name)) fail(`thresholds.${name} is not used in the SQL`);
  if (/\{\{/.test(out)) fail('the SQL has a malformed {{threshold}} placeholder');
  return out;
}

/** A call worth surfacing even without a dedicated detection (queries/sensitive-events.yml). */
export interface SensitiveEvent {
  readonly source: string;
  readonly name: string;
  readonly tactic: string;
  readonly severity: Severity;
  readonly why: string;
}

/** Loads and checks the catalog of sensitive API calls. */
export function loadSensitiveEvents(path: string): SensitiveEvent[] {
  let doc: { events?: unknown };
  try {
    doc = parse(readFileSync(path, 'utf8')) as { events?: unknown };
  } catch (error) {
    throw new CatalogError(`${basename(path)}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(doc.events)) throw new CatalogError(`${basename(path)}: needs an events list`);
  const seen = new Set<string>();
  return doc.events.map((entry: Record<string, unknown>, i: number) => {
    const fail = (what: string): never => {
      throw new CatalogError(`${basename(path)}: events[${i}] ${what}`);
    };
    if (typeof entry['source'] !== 'string' || !/^[a-z0-9.-]+\.amazonaws\.com$/.test(entry['source'])) fail('needs a source such as iam.amazonaws.com');
    if (typeof entry['name'] !== 'string' || !/^[A-Za-z0-9]+$/.test(entry['name'])) fail('needs an event name');
    if (typeof entry['tactic'] !== 'string' || !TACTIC.test(entry['tactic'])) fail('needs an ATT&CK tactic id (TA0000)');
    if (!SEVERITIES.includes(entry['severity'] as Severity)) fail(`severity must be one of ${SEVERITIES.join(', ')}`);
    if (typeof entry['why'] !== 'string' || entry['why'].trim() === '') fail('needs a one-line why');
    const key = `${entry['source']}/${entry['name']}`;
    if (seen.has(key)) fail(`repeats ${key}`);
    seen.add(key);
    return entry as unknown as SensitiveEvent;
  });
}
