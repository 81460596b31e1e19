/**
 * Sigma detections to SQL: search identifiers (maps AND, lists OR, keyword lists), values
 * with their modifiers, and the condition over them, as one boolean SQL expression over
 * `events`. Rule values reach the SQL only as escaped string literals (`sqlString`: quotes
 * doubled, NUL refused) and LIKE patterns with an explicit escape character, so no value can
 * change the query's shape.
 */
import { sqlString } from '../engines/dialect.js';
import { parseCondition, type Condition } from './condition.js';
import { SigmaUnsupportedError } from './errors.js';
import { fieldSql, RECORD_TEXT, type FieldSql } from './fields.js';

/** A scalar value of a rule, as YAML gives it. */
export type SigmaScalar = string | number | boolean | null;

/** One `field|modifiers: values` item (field null for keywords). */
export interface SigmaMatch {
  readonly kind: 'match';
  readonly field: string | null;
  readonly modifiers: readonly string[];
  readonly values: readonly SigmaScalar[];
}

/** A search identifier's body: maps AND their items, lists OR theirs. */
export type SigmaSearch = SigmaMatch | { readonly kind: 'and' | 'or'; readonly items: readonly SigmaSearch[] };

/** The result of translating a detection: a SQL predicate, and why it is DuckDB-only when it is. */
export interface TranslatedDetection {
  readonly where: string;
  readonly duckdbOnly: readonly string[];
  /**
   * The event names (lower case) every match must have, when the condition proves it: then
   * detect runs the rule on its pre-filtered copy of those events. Absent: any event may match.
   */
  readonly eventNames?: readonly string[];
}

/** Names a search limits `eventName` to (lower case), or null when it does not limit it. */
function searchNames(search: SigmaSearch): Set<string> | null {
  if (search.kind === 'match') {
    if (search.field !== 'eventName' || search.modifiers.some((m) => m !== 'cased')) return null;
    if (search.values.length === 0 || search.values.some((v) => typeof v !== 'string' || /[*?\\]/.test(v))) return null;
    return new Set(search.values.map((v) => (v as string).toLowerCase()));
  }
  return combine(search.kind, search.items.map(searchNames));
}

/** AND: limited by any limited part (the names all of them allow); OR: limited only when every branch is. */
function combine(kind: 'and' | 'or', parts: ReadonlyArray<Set<string> | null>): Set<string> | null {
  if (kind === 'or') {
    if (parts.some((p) => p === null)) return null;
    return new Set(parts.flatMap((p) => [...p!]));
  }
  const limited = parts.filter((p): p is Set<string> => p !== null);
  if (limited.length === 0) return null;
  return limited.reduce((a, b) => new Set([...a].filter((n) => b.has(n))));
}

function conditionNames(condition: Condition, searches: ReadonlyMap<string, Set<string> | null>): Set<string> | null {
  switch (condition.kind) {
    case 'ref':
      return searches.get(condition.name) ?? null;
    case 'not':
      return null;
    default:
      return combine(condition.kind, condition.items.map((c) => conditionNames(c, searches)));
  }
}

const TRANSFORMS = new Set(['base64', 'base64offset', 'windash', 'wide', 'utf16le', 'utf16be', 'utf16']);
const KINDS = new Set(['contains', 'startswith', 'endswith', 're', 'cidr', 'exists', 'fieldref', 'lt', 'lte', 'gt', 'gte']);
const FLAGS = new Set(['i', 'm', 's']);

/** Reads a search identifier's YAML value into the search model. */
export function readSearch(name: string, value: unknown): SigmaSearch {
  const fail = (what: string): never => {
    throw new SigmaUnsupportedError(`search identifier "${name}": ${what}`);
  };
  const scalar = (v: unknown): SigmaScalar => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v as SigmaScalar;
    return fail(`a value must be a string, number, boolean or null, not ${Array.isArray(v) ? 'a list' : typeof v}`);
  };
  const map = (m: Record<string, unknown>): SigmaSearch => {
    const keys = Object.keys(m);
    if (keys.length === 0) fail('an empty map matches nothing');
    const items = keys.map((key): SigmaMatch => {
      const [field, ...modifiers] = key.split('|');
      const raw = m[key];
      const values = Array.isArray(raw) ? raw.map(scalar) : [scalar(raw)];
      if (values.length === 0) fail(`${key} has an empty list`);
      return { kind: 'match', field: field === '' ? null : field!, modifiers, values };
    });
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  if (Array.isArray(value)) {
    if (value.length === 0) fail('an empty list matches nothing');
    if (value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      const items = value.map((v) => map(v as Record<string, unknown>));
      return items.length === 1 ? items[0]! : { kind: 'or', items };
    }
    return { kind: 'match', field: null, modifiers: [], values: value.map(scalar) };
  }
  if (value !== null && typeof value === 'object') return map(value as Record<string, unknown>);
  if (typeof value === 'string' || typeof value === 'number') return { kind: 'match', field: null, modifiers: [], values: [value] };
  return fail('must be a map, a list of maps, or a list of keywords');
}

/** A pattern piece: literal text or a wildcard. */
type Piece = string | { readonly wild: '*' | '?' };

/** A Sigma string with its escapes read: `\*`, `\?` and `\\` are literal; other backslashes stay. */
export function readPattern(value: string): Piece[] {
  const out: Piece[] = [];
  const push = (text: string) => {
    const last = out.at(-1);
    if (typeof last === 'string') out[out.length - 1] = last + text;
    else out.push(text);
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (value[i + 1] === '*' || value[i + 1] === '?' || value[i + 1] === '\\')) {
      push(value[i + 1]!);
      i++;
    } else if (c === '*' || c === '?') out.push({ wild: c });
    else push(c);
  }
  return out;
}

/** The text of a pattern without wildcards, or undefined when it has one. */
function plainText(pieces: readonly Piece[]): string | undefined {
  return pieces.every((p) => typeof p === 'string') ? pieces.join('') : undefined;
}

/** A LIKE pattern (escape character `\`) for pattern pieces. */
function likePattern(pieces: readonly Piece[]): string {
  return pieces.map((p) => (typeof p === 'string' ? p.replace(/[\\%_]/g, (c) => `\\${c}`) : p.wild === '*' ? '%' : '_')).join('');
}

/** Text as base64 of its UTF-8 (or UTF-16) bytes. */
function encode(text: string, encoding: string | undefined): Buffer {
  if (encoding === 'wide' || encoding === 'utf16le') return Buffer.from(text, 'utf16le');
  if (encoding === 'utf16be') return Buffer.from(text, 'utf16le').swap16();
  if (encoding === 'utf16') return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  return Buffer.from(text, 'utf8');
}

/**
 * The three base64 forms of `bytes` at offsets 0, 1 and 2 of a longer encoded text, each cut
 * to the characters that do not depend on the neighbouring bytes.
 */
export function base64Offsets(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = [0, 2, 3][shift]!;
    const end = [0, -3, -2][(bytes.length + shift) % 3]!;
    out.push(encoded.slice(start, end === 0 ? encoded.length : encoded.length + end).replace(/=+$/, ''));
  }
  return out;
}

/** The dash forms `windash` tries for each `-` or `/` of a value. */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];

/** Every variant of `text` with each `-` and `/` replaced by each dash form (at most 4 such characters). */
export function windashVariants(text: string): string[] {
  const positions = [...text].flatMap((c, i) => (c === '-' || c === '/' ? [i] : []));
  if (positions.length > 4) throw new SigmaUnsupportedError(`windash on "${text}" would make ${DASHES.length ** positions.length} variants; split the value`);
  let variants = [[...text]];
  for (const at of positions) variants = variants.flatMap((v) => DASHES.map((d) => v.map((c, i) => (i === at ? d : c))));
  return variants.map((v) => v.join(''));
}

/** An IPv4 address in SQL as a number (NULL when the text is not a dotted quad). */
function ipv4Number(text: string): string {
  const octet = (n: number) => `try_cast(split_part(${text}, '.', ${n}) as bigint)`;
  return `case when regexp_matches(${text}, '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$') then ${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)} end`;
}

/** The first and last address of an IPv4 CIDR block, as numbers. */
export function ipv4Range(cidr: string): [number, number] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5] ?? 32) > 32) {
    throw new SigmaUnsupportedError(`cidr "${cidr}" is not an IPv4 block such as 10.0.0.0/8 (IPv6 blocks are not translated)`);
  }
  const address = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5] ?? 32));
  const first = address - (address % size);
  return [first, first + size - 1];
}

/** Translates one `field|modifiers: values` item to a SQL predicate. */
function matchSql(match: SigmaMatch, duckdbOnly: Set<string>): string {
  const label = `${match.field ?? ''}${match.modifiers.map((m) => `|${m}`).join('')}`;
  const fail = (what: string): never => {
    throw new SigmaUnsupportedError(`${label || 'keywords'}: ${what}`);
  };
  const known = (m: string) => TRANSFORMS.has(m) || KINDS.has(m) || m === 'all' || m === 'cased' || FLAGS.has(m);
  for (const m of match.modifiers) {
    if (m === 'expand') fail('the expand modifier needs placeholder values trailhound does not have');
    if (!known(m)) fail(`modifier "${m}" is not supported`);
  }
  const mods = new Set(match.modifiers);
  const kinds = match.modifiers.filter((m) => KINDS.has(m));
  const position: string[] = kinds.filter((k) => k === 'contains' || k === 'startswith' || k === 'endswith');
  const typed = kinds.filter((k) => !position.includes(k));
  if (position.length > 1 || typed.length > 1 || (typed.length === 1 && position.length === 1 && typed[0] !== 'fieldref')) fail('combines modifiers that exclude each other');
  const kind = typed[0] ?? position[0];
  if (match.modifiers.some((m) => FLAGS.has(m)) && kind !== 're') fail('the i, m and s flags apply to re only');
  if (mods.has('all') && match.values.length < 2) fail('all needs a list of at least two values');
  const field: FieldSql = match.field === null ? RECORD_TEXT : fieldSql(match.field);
  if (field.duckdbOnly) duckdbOnly.add(field.duckdbOnly);
  const value = field.sql;
  const cased = mods.has('cased');
  const fold = (sql: string) => (cased ? sql : `lower(${sql})`);

  const one = (v: SigmaScalar): string => {
    if (kind === 'exists') {
      if (typeof v !== 'boolean') fail('exists takes true or false');
      return v ? `${value} is not null` : `${value} is null`;
    }
    if (v === null) {
      if (kind !== undefined || match.modifiers.some((m) => TRANSFORMS.has(m))) fail('null takes no modifier');
      return `${value} is null`;
    }
    const text = typeof v === 'string' ? v : String(v);
    if (kind === 're') {
      // DuckDB (RE2) and Trino share no lookaround or backreferences: refuse them here rather than fail at run time.
      if (/\(\?<?[=!]|\\[1-9]/.test(text)) fail(`the regular expression ${JSON.stringify(text)} uses lookaround or a backreference, which RE2 does not support`);
      try {
        new RegExp(text);
      } catch (error) {
        fail(`the regular expression ${JSON.stringify(text)} is not valid (${(error as Error).message})`);
      }
      const flags = ['i', 'm', 's'].filter((f) => mods.has(f)).join('');
      return `regexp_matches(${value}, ${sqlString(flags ? `(?${flags})${text}` : text)})`;
    }
    if (kind === 'cidr') {
      const [first, last] = ipv4Range(text);
      return `${ipv4Number(value)} between ${first} and ${last}`;
    }
    if (kind === 'lt' || kind === 'lte' || kind === 'gt' || kind === 'gte') {
      if (typeof v !== 'number') fail(`${kind} takes a number`);
      const op = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[kind];
      return `try_cast(${value} as double) ${op} ${String(v)}`;
    }
    if (kind === 'fieldref') {
      const other = fieldSql(text);
      if (other.duckdbOnly) duckdbOnly.add(other.duckdbOnly);
      if (position.length > 0) fail('fieldref is translated as equality only');
      return `${fold(value)} = ${fold(other.sql)}`;
    }
    let texts = [text];
    if (mods.has('windash')) texts = texts.flatMap(windashVariants);
    const encoding = match.modifiers.find((m) => m === 'wide' || m.startsWith('utf16'));
    if (encoding && !mods.has('base64') && !mods.has('base64offset')) fail(`${encoding} only applies before base64 or base64offset`);
    if (mods.has('base64') || mods.has('base64offset')) {
      if (texts.some((t) => readPattern(t).some((p) => typeof p !== 'string'))) fail('base64 of a value with wildcards cannot be matched');
      const plain = texts.map((t) => plainText(readPattern(t))!);
      texts = mods.has('base64offset') ? plain.flatMap((t) => base64Offsets(encode(t, encoding))) : plain.map((t) => encode(t, encoding).toString('base64'));
      // The encoded text is literal: escape what the pattern reader would take as a wildcard.
      texts = texts.map((t) => t.replace(/[\\*?]/g, (c) => `\\${c}`));
    }
    const alternatives = texts.map((t) => {
      const pieces: Piece[] = readPattern(t);
      if (match.field === null || kind === 'contains' || kind === 'endswith') pieces.unshift({ wild: '*' });
      if (match.field === null || kind === 'contains' || kind === 'startswith') pieces.push({ wild: '*' });
      const plain = plainText(pieces);
      if (plain !== undefined) return `${fold(value)} = ${fold(sqlString(plain))}`;
      return `${fold(value)} like ${fold(sqlString(likePattern(pieces)))} escape '\\'`;
    });
    return alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' or ')})`;
  };
  const parts = match.values.map(one);
  if (parts.length === 1) return parts[0]!;
  return `(${parts.join(mods.has('all') ? ' and ' : ' or ')})`;
}

function searchSql(search: SigmaSearch, duckdbOnly: Set<string>): string {
  if (search.kind === 'match') return matchSql(search, duckdbOnly);
  const parts = search.items.map((s) => searchSql(s, duckdbOnly));
  return parts.length === 1 ? parts[0]! : `(${parts.join(` ${search.kind} `)})`;
}

function conditionSql(condition: Condition, searches: ReadonlyMap<string, string>): string {
  switch (condition.kind) {
    case 'ref':
      return searches.get(condition.name)!;
    case 'not':
      // A NULL (missing field) inside must count as no match, so that `not` of it matches.
      return `not coalesce(${conditionSql(condition.item, searches)}, false)`;
    default:
      return `(${condition.items.map((c) => conditionSql(c, searches)).join(` ${condition.kind} `)})`;
  }
}

/**
 * Translates a rule's `detection` block to a SQL predicate over `events`. Throws
 * SigmaUnsupportedError with the reason when a construct has no translation.
 */
export function translateDetection(detection: Readonly<Record<string, unknown>>): TranslatedDetection {
  const names = Object.keys(detection).filter((k) => k !== 'condition' && k !== 'timeframe');
  if (detection['timeframe'] !== undefined) throw new SigmaUnsupportedError('timeframe belongs to aggregations and correlation rules, which are not run');
  const duckdbOnly = new Set<string>();
  const models = new Map(names.map((name) => [name, readSearch(name, detection[name])] as const));
  const searches = new Map([...models].map(([name, model]) => [name, searchSql(model, duckdbOnly)] as const));
  const limits = new Map([...models].map(([name, model]) => [name, searchNames(model)] as const));
  const raw = detection['condition'];
  const conditions = Array.isArray(raw) ? raw : [raw];
  if (conditions.length === 0 || conditions.some((c) => typeof c !== 'string')) throw new SigmaUnsupportedError('detection.condition must be a string or a list of strings');
  const parsed = conditions.map((c) => parseCondition(c as string, names));
  const where = parsed.length === 1 ? conditionSql(parsed[0]!, searches) : `(${parsed.map((c) => conditionSql(c, searches)).join(' or ')})`;
  // No coalesce around the whole: WHERE drops NULL as it drops false, and a bare conjunction
  // lets DuckDB filter inside the scan, before reading the records (1M events: 12 ms, not 4.7 s).
  const limit = combine('or', parsed.map((c) => conditionNames(c, limits)));
  return { where, duckdbOnly: [...duckdbOnly], ...(limit ? { eventNames: [...limit].sort() } : {}) };
}
