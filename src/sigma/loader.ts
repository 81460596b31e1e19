/**
 * Loads Sigma rules (files or directories, recursively) and turns each AWS CloudTrail rule
 * into a detection the runner runs like any in queries/: id `sigma:<rule id>`, severity from
 * `level`, ATT&CK from `tags`, SQL with the contract columns. Every file is accounted for: a
 * rule that cannot be translated is listed with its path and the reason, never dropped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENGINES, type Detection, type Severity } from '../detect/catalog.js';
import { NotPortableError, sqlString } from '../engines/dialect.js';
import { SigmaUnsupportedError } from './errors.js';
import { correlationSql, readCorrelation, type CorrelatedRule } from './correlation.js';
import { translateDetection } from './translate.js';

/** Where a Sigma detection came from: the rule's own id, its file and the file's hash. */
export interface SigmaProvenance {
  readonly ruleId: string;
  readonly path: string;
  readonly sha256: string;
  readonly status: string | null;
}

/** A Sigma rule translated into a detection. */
export interface SigmaDetection extends Detection {
  readonly sigma: SigmaProvenance;
}

/** A rule (or file) that does not run, and why. */
export interface UntranslatedRule {
  readonly id: string | null;
  readonly path: string;
  readonly reason: string;
}

/** A rule that runs only as part of a correlation rule (its `generate` is not true). */
export interface CorrelatedOnly {
  readonly id: string;
  readonly path: string;
  /** The correlation detection it is part of (`sigma:<id>`). */
  readonly by: string;
}

/** What a set of Sigma paths holds: the detections that run, and the rules that do not. */
export interface SigmaCatalog {
  readonly detections: readonly SigmaDetection[];
  readonly untranslated: readonly UntranslatedRule[];
  /** Rules that run only inside the correlations that name them. */
  readonly correlated?: readonly CorrelatedOnly[];
}

/** Sigma levels and the severities they become. */
const LEVELS: Readonly<Record<string, Severity>> = { informational: 'info', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

/** ATT&CK tactic tags (`attack.persistence`) and their ids. */
const TACTICS: Readonly<Record<string, string>> = {
  reconnaissance: 'TA0043',
  'resource-development': 'TA0042',
  'initial-access': 'TA0001',
  execution: 'TA0002',
  persistence: 'TA0003',
  'privilege-escalation': 'TA0004',
  'defense-evasion': 'TA0005',
  'credential-access': 'TA0006',
  discovery: 'TA0007',
  'lateral-movement': 'TA0008',
  collection: 'TA0009',
  'command-and-control': 'TA0011',
  exfiltration: 'TA0010',
  impact: 'TA0040',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUSES = new Set(['stable', 'test', 'experimental', 'deprecated', 'unsupported']);

/** The rule files under the given paths (a file as given; a directory's .yml and .yaml files, recursively), sorted. */
export function sigmaFiles(paths: readonly string[]): { files: string[]; missing: UntranslatedRule[] } {
  const files: string[] = [];
  const missing: UntranslatedRule[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) files.push(path);
    }
  };
  for (const path of paths) {
    try {
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    } catch (error) {
      missing.push({ id: null, path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    }
  }
  return { files: [...new Set(files)], missing };
}

/** Reads one rule document into a detection; throws SigmaUnsupportedError with the reason. */
export function sigmaDetection(doc: unknown, path: string, sha256: string): SigmaDetection {
  return readRule(doc, path, sha256).detection;
}

/** A rule's metadata, the fields every Sigma document shares. */
interface RuleMeta {
  readonly id: string;
  readonly title: string;
  readonly status: string | undefined;
  readonly severity: Severity;
  readonly description: string;
  readonly tactics: string[];
  readonly techniques: string[];
  readonly references: string[];
  readonly falsePositives: string[];
}

function ruleMeta(rule: Record<string, unknown>): RuleMeta {
  const text = (key: string, required: boolean): string | undefined => {
    const value = rule[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '') throw new SigmaUnsupportedError(`${key} must be a non-empty string`);
    return value.trim();
  };
  const list = (key: string): string[] => {
    const value = rule[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new SigmaUnsupportedError(`${key} must be a list of strings`);
    return value as string[];
  };
  const id = text('id', true)!;
  if (!UUID.test(id)) throw new SigmaUnsupportedError(`id "${id}" is not a UUID`);
  const title = text('title', true)!;
  const status = text('status', false);
  if (status !== undefined && !STATUSES.has(status)) throw new SigmaUnsupportedError(`status "${status}" is not one of ${[...STATUSES].join(', ')}`);
  const level = text('level', false) ?? 'medium';
  const severity = LEVELS[level];
  if (!severity) throw new SigmaUnsupportedError(`level "${level}" is not one of ${Object.keys(LEVELS).join(', ')}`);
  const tags = list('tags').map((t) => t.toLowerCase());
  const techniques = tags.filter((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t)).map((t) => t.slice('attack.'.length).toUpperCase());
  const tactics = tags.flatMap((t) => (t.startsWith('attack.') && TACTICS[t.slice('attack.'.length)] ? [TACTICS[t.slice('attack.'.length)]!] : []));
  return {
    id: id.toLowerCase(),
    title,
    status,
    severity,
    description: text('description', false) ?? title,
    tactics: [...new Set(tactics)],
    techniques: [...new Set(techniques)],
    references: list('references'),
    falsePositives: list('falsepositives'),
  };
}

/** The detection fields a rule's metadata gives, for a rule or a correlation. */
function metaFields(meta: RuleMeta, path: string, sha256: string) {
  return {
    id: `sigma:${meta.id}`,
    area: 'sigma',
    title: meta.title,
    description: meta.description,
    severity: meta.severity,
    // A Sigma rule says itself whether failed calls count (errorCode in its selections); what it matches is reported.
    attemptSeverity: meta.severity,
    tactics: meta.tactics,
    techniques: meta.techniques,
    references: meta.references,
    falsePositives: meta.falsePositives,
    remediation: `Review the events against the Sigma rule ${meta.id} (${path})${meta.falsePositives.length ? `; known false positives: ${meta.falsePositives.join('; ')}` : ''}.`,
    tests: [],
    path,
    sigma: { ruleId: meta.id, path, sha256, status: meta.status ?? null },
  } as const;
}

/** A detection rule read: its detection, its SQL predicate and its `name` (what correlations refer to it by). */
interface ReadRule {
  readonly detection: SigmaDetection;
  readonly where: string;
  readonly name: string | null;
}

function readRule(doc: unknown, path: string, sha256: string): ReadRule {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new SigmaUnsupportedError('is not a YAML map');
  const rule = doc as Record<string, unknown>;
  if (rule['correlation'] !== undefined) throw new SigmaUnsupportedError('is a correlation rule; it runs with the rules it names');
  if (rule['filter'] !== undefined && rule['detection'] === undefined) throw new SigmaUnsupportedError('is a Sigma filter; filters are not applied');
  if (rule['action'] !== undefined) throw new SigmaUnsupportedError(`is a rule collection part (action: ${String(rule['action'])}); collections are not read`);
  const meta = ruleMeta(rule);
  const logsource = rule['logsource'];
  if (logsource === null || typeof logsource !== 'object' || Array.isArray(logsource)) throw new SigmaUnsupportedError('logsource must be a map');
  const source = logsource as Record<string, unknown>;
  const product = String(source['product'] ?? '').toLowerCase();
  const service = String(source['service'] ?? '').toLowerCase();
  if (product !== 'aws' || service !== 'cloudtrail') throw new SigmaUnsupportedError(`logsource is product "${String(source['product'] ?? '')}", service "${String(source['service'] ?? '')}", not AWS CloudTrail`);
  const detection = rule['detection'];
  if (detection === null || typeof detection !== 'object' || Array.isArray(detection)) throw new SigmaUnsupportedError('detection must be a map');
  const translated = translateDetection(detection as Record<string, unknown>);
  const name = typeof rule['name'] === 'string' && rule['name'].trim() ? rule['name'].trim() : null;
  return {
    detection: {
      ...metaFields(meta, path, sha256),
      sql: detectionSql(translated.where, meta.title),
      engines: translated.duckdbOnly.length ? ['duckdb'] : [...ENGINES],
      ...(translated.eventNames ? { eventNames: translated.eventNames } : {}),
      ...(translated.duckdbOnly.length ? { engineNote: translated.duckdbOnly.join('; ') } : {}),
    },
    where: translated.where,
    name,
  };
}

/**
 * A correlation rule as a detection over the rules it names (found among `rules` by id or
 * name). Throws SigmaUnsupportedError when it cannot run: a rule it names is missing or does
 * not run itself, it chains another correlation, or its section is not one trailhound runs.
 */
function readCorrelationRule(doc: Record<string, unknown>, path: string, sha256: string, rules: ReadonlyMap<string, ReadRule>, refused: ReadonlyMap<string, string>, correlations: ReadonlySet<string>): { detection: SigmaDetection; members: ReadRule[]; generate: boolean } {
  const meta = ruleMeta(doc);
  const spec = readCorrelation(doc['correlation']);
  const members = spec.rules.map((ref) => {
    const key = ref.toLowerCase();
    if (correlations.has(key)) throw new SigmaUnsupportedError(`names the correlation ${ref}; chained correlations are not run`);
    const found = rules.get(key);
    if (found) return found;
    const why = refused.get(key);
    throw new SigmaUnsupportedError(why ? `names the rule ${ref}, which does not run: ${why}` : `names the rule ${ref}, which is not among the given paths (by id or name)`);
  });
  const correlated: CorrelatedRule[] = members.map((m) => ({ id: m.detection.sigma.ruleId, name: m.name, where: m.where }));
  // Limited to event names only when every rule it names is: then it runs on detect's pre-filtered copy.
  const eventNames = members.every((m) => m.detection.eventNames) ? [...new Set(members.flatMap((m) => m.detection.eventNames!))].sort() : undefined;
  return {
    detection: {
      ...metaFields(meta, path, sha256),
      description: `${meta.description} (Sigma ${spec.type} correlation of ${members.map((m) => m.detection.title).join('; ')}, within ${spec.timespan}${spec.groupBy.length ? `, by ${spec.groupBy.join(', ')}` : ''})`,
      sql: correlationSql(spec, correlated, meta.title),
      engines: ['duckdb'],
      engineNote: 'a correlation counts over sliding time windows in the local store',
      ...(eventNames ? { eventNames } : {}),
    },
    members,
    generate: spec.generate,
  };
}

/** A rule's SQL: the contract columns of every detection, over the events its predicate matches. */
function detectionSql(where: string, title: string): string {
  const resource = ['userName', 'roleName', 'policyArn', 'bucketName', 'name', 'instanceId', 'trailName', 'detectorId', 'functionName', 'groupName']
    .map((key) => `json_extract_string(requestparameters, '$.${key}')`)
    .join(', ');
  return `select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(${resource}) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ': ' || ${sqlString(title)} as summary
from events
where ${where}`;
}

/**
 * Loads the Sigma rules under `paths`. Rules that run come back as detections, sorted by id;
 * every other rule or file is listed with the reason (bad YAML, another logsource, an
 * unsupported modifier, an id used twice).
 */
export function loadSigmaRules(paths: readonly string[]): SigmaCatalog {
  const { files, missing } = sigmaFiles(paths);
  const untranslated: UntranslatedRule[] = [...missing];
  // Every document first: a correlation may name rules of any file given.
  const docs: Array<{ path: string; sha256: string; value: unknown }> = [];
  for (const path of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      untranslated.push({ id: null, path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    for (const doc of parseAllDocuments(bytes.toString('utf8'))) {
      if (doc.errors.length > 0) {
        untranslated.push({ id: null, path, reason: `not valid YAML (${doc.errors[0]!.message.split('\n')[0]})` });
        continue;
      }
      docs.push({ path, sha256, value: doc.toJS() });
    }
  }
  const idOf = (value: unknown): string | null => {
    const id = value && typeof value === 'object' ? (value as Record<string, unknown>)['id'] : undefined;
    return typeof id === 'string' ? id : null;
  };
  const isCorrelation = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>)['correlation'] !== undefined;
  const rules = new Map<string, ReadRule>();
  const refused = new Map<string, string>();
  const read: ReadRule[] = [];
  const seen = new Map<string, string>();
  const claim = (id: string, ruleId: string, path: string) => {
    const earlier = seen.get(id);
    if (earlier) throw new SigmaUnsupportedError(`id ${ruleId} is already used by ${earlier}`);
    seen.set(id, path);
  };
  for (const { path, sha256, value } of docs.filter((d) => !isCorrelation(d.value))) {
    try {
      const rule = readRule(value, path, sha256);
      claim(rule.detection.id, rule.detection.sigma.ruleId, path);
      read.push(rule);
      rules.set(rule.detection.sigma.ruleId, rule);
      if (rule.name) rules.set(rule.name.toLowerCase(), rule);
    } catch (error) {
      if (!(error instanceof SigmaUnsupportedError) && !(error instanceof NotPortableError)) throw error;
      const id = idOf(value);
      if (id) refused.set(id.toLowerCase(), error.message);
      const name = value && typeof value === 'object' ? (value as Record<string, unknown>)['name'] : undefined;
      if (typeof name === 'string') refused.set(name.toLowerCase(), error.message);
      untranslated.push({ id, path, reason: error.message });
    }
  }
  const correlationKeys = new Set(
    docs.filter((d) => isCorrelation(d.value)).flatMap((d) => {
      const v = d.value as Record<string, unknown>;
      return [v['id'], v['name']].filter((k): k is string => typeof k === 'string').map((k) => k.toLowerCase());
    }),
  );
  const detections: SigmaDetection[] = [];
  const consumed = new Map<string, string>();
  const wanted = new Set<string>();
  for (const { path, sha256, value } of docs.filter((d) => isCorrelation(d.value))) {
    try {
      const { detection, members, generate } = readCorrelationRule(value as Record<string, unknown>, path, sha256, rules, refused, correlationKeys);
      claim(detection.id, detection.sigma.ruleId, path);
      detections.push(detection);
      for (const m of members) {
        if (generate) wanted.add(m.detection.id);
        else if (!consumed.has(m.detection.id)) consumed.set(m.detection.id, detection.id);
      }
    } catch (error) {
      if (!(error instanceof SigmaUnsupportedError) && !(error instanceof NotPortableError)) throw error;
      untranslated.push({ id: idOf(value), path, reason: error.message });
    }
  }
  // A rule a correlation names runs only inside it, unless a correlation naming it says generate: true.
  for (const id of wanted) consumed.delete(id);
  detections.push(...read.map((r) => r.detection).filter((d) => !consumed.has(d.id)));
  detections.sort((a, b) => (a.id < b.id ? -1 : 1));
  const correlated = read.filter((r) => consumed.has(r.detection.id)).map((r) => ({ id: r.detection.sigma.ruleId, path: r.detection.path, by: consumed.get(r.detection.id)! }));
  return { detections, untranslated, ...(correlated.length ? { correlated } : {}) };
}
