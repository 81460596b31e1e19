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

/** What a set of Sigma paths holds: the detections that run, and the rules that do not. */
export interface SigmaCatalog {
  readonly detections: readonly SigmaDetection[];
  readonly untranslated: readonly UntranslatedRule[];
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
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new SigmaUnsupportedError('is not a YAML map');
  const rule = doc as Record<string, unknown>;
  if (rule['correlation'] !== undefined) throw new SigmaUnsupportedError('is a correlation rule; correlation rules are not run');
  if (rule['filter'] !== undefined && rule['detection'] === undefined) throw new SigmaUnsupportedError('is a Sigma filter; filters are not applied');
  if (rule['action'] !== undefined) throw new SigmaUnsupportedError(`is a rule collection part (action: ${String(rule['action'])}); collections are not read`);
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
  const logsource = rule['logsource'];
  if (logsource === null || typeof logsource !== 'object' || Array.isArray(logsource)) throw new SigmaUnsupportedError('logsource must be a map');
  const source = logsource as Record<string, unknown>;
  const product = String(source['product'] ?? '').toLowerCase();
  const service = String(source['service'] ?? '').toLowerCase();
  if (product !== 'aws' || service !== 'cloudtrail') throw new SigmaUnsupportedError(`logsource is product "${String(source['product'] ?? '')}", service "${String(source['service'] ?? '')}", not AWS CloudTrail`);
  const detection = rule['detection'];
  if (detection === null || typeof detection !== 'object' || Array.isArray(detection)) throw new SigmaUnsupportedError('detection must be a map');
  const tags = list('tags').map((t) => t.toLowerCase());
  const techniques = tags.filter((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t)).map((t) => t.slice('attack.'.length).toUpperCase());
  const tactics = tags.flatMap((t) => (t.startsWith('attack.') && TACTICS[t.slice('attack.'.length)] ? [TACTICS[t.slice('attack.'.length)]!] : []));
  const translated = translateDetection(detection as Record<string, unknown>);
  const references = list('references');
  const falsePositives = list('falsepositives');
  const description = text('description', false) ?? title;
  return {
    id: `sigma:${id.toLowerCase()}`,
    area: 'sigma',
    title,
    description,
    severity,
    // A Sigma rule says itself whether failed calls count (errorCode in its selections); what it matches is reported.
    attemptSeverity: severity,
    tactics: [...new Set(tactics)],
    techniques: [...new Set(techniques)],
    references,
    falsePositives,
    remediation: `Review the events against the Sigma rule ${id} (${path})${falsePositives.length ? `; known false positives: ${falsePositives.join('; ')}` : ''}.`,
    sql: detectionSql(translated.where, title),
    tests: [],
    path,
    engines: translated.duckdbOnly.length ? ['duckdb'] : [...ENGINES],
    ...(translated.eventNames ? { eventNames: translated.eventNames } : {}),
    ...(translated.duckdbOnly.length ? { engineNote: translated.duckdbOnly.join('; ') } : {}),
    sigma: { ruleId: id.toLowerCase(), path, sha256, status: status ?? null },
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
  const detections: SigmaDetection[] = [];
  const untranslated: UntranslatedRule[] = [...missing];
  const seen = new Map<string, string>();
  for (const path of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      untranslated.push({ id: null, path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const docs = parseAllDocuments(bytes.toString('utf8'));
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) {
      const idOf = (): string | null => {
        const value = doc.contents ? (doc.toJS() as Record<string, unknown> | null)?.['id'] : undefined;
        return typeof value === 'string' ? value : null;
      };
      if (doc.errors.length > 0) {
        untranslated.push({ id: null, path, reason: `not valid YAML (${doc.errors[0]!.message.split('\n')[0]})` });
        continue;
      }
      try {
        const detection = sigmaDetection(doc.toJS(), path, sha256);
        const earlier = seen.get(detection.id);
        if (earlier) throw new SigmaUnsupportedError(`id ${detection.sigma.ruleId} is already used by ${earlier}`);
        seen.set(detection.id, path);
        detections.push(detection);
      } catch (error) {
        if (!(error instanceof SigmaUnsupportedError) && !(error instanceof NotPortableError)) throw error;
        untranslated.push({ id: idOf(), path, reason: error.message });
      }
    }
  }
  detections.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { detections, untranslated };
}
