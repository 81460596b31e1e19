/**
 * The DuckDB → Trino (Athena engine v3) dialect layer. Detections are written in the subset
 * both engines share; this module translates the few DuckDB spellings that differ, and
 * refuses (NotPortableError) anything it does not know to be portable, so that a detection
 * never runs on Athena with a meaning it does not have on DuckDB.
 *
 * What it translates (each has a unit test):
 * - `json_extract_string(j, p)` → `json_extract_scalar(j, p)`; path keys that are not plain names
 *   (`$.x-amz-acl`) in Trino's bracket form (`$["x-amz-acl"]`)
 * - `regexp_matches(s, re)` → `regexp_like(s, re)`
 * - `arg_min` / `arg_max` → `min_by` / `max_by`; `list(x order by …)` → `array_agg(x order by …)`
 * - `x::type` → `cast(x as type)`; a JSON value cast to text → `json_format(x)` (Trino's cast of
 *   a JSON array or object to varchar fails)
 * - `[a, b]` → `array[a, b]` (subscripts `x[1]` are 1-based in both and stay as they are)
 * - `interval 1 day` / `interval '1 day'` → `interval '1' day`
 * - `strftime(t, '%Y-%m-%dT%H:%M:%SZ')` → `date_format(t, '%Y-%m-%dT%H:%i:%sZ')`
 * - `date_diff(unit, a, b)` → `date_diff(unit, date_trunc(unit, a), date_trunc(unit, b))`:
 *   DuckDB counts unit boundaries crossed, Trino counts whole units elapsed
 * - `epoch(t)` → `to_unixtime(t)`, `list_contains(l, x)` → `contains(l, x)`
 *
 * - `cross join unnest(l) as t (x)` and `regexp_extract_all(s, re, group)` are spelled the same
 *
 * What it refuses: `qualify` (no Trino equivalent: write a subquery over `row_number()`), any
 * function outside PORTABLE_FUNCTIONS and the translations above, `strftime` with a format
 * other than the fields listed, casts to types it does not map.
 */
import { ExitCode, TrailhoundError } from '../core/errors.js';

/** A detection (or query) uses a DuckDB construct that has no translation to Trino here. */
export class NotPortableError extends TrailhoundError {
  constructor(message: string) {
    super('NOT_PORTABLE', message, ExitCode.usage);
  }
}

/** Functions spelled and behaving the same in DuckDB and Trino (as far as the detections use them). */
export const PORTABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'abs', 'array_agg', 'avg', 'bool_and', 'bool_or', 'cardinality', 'cast', 'coalesce', 'concat', 'contains',
  'count', 'count_if', 'date_trunc', 'first_value', 'greatest', 'if', 'json_array_length', 'json_extract', 'lag',
  'last_value', 'lead', 'least', 'length', 'lower', 'max', 'max_by', 'min', 'min_by', 'nullif', 'rank',
  'regexp_extract', 'regexp_extract_all', 'regexp_replace', 'replace', 'round', 'row_number', 'split_part', 'starts_with', 'strpos',
  'substr', 'sum', 'trim', 'try_cast', 'unnest', 'upper',
]);

/** DuckDB names with a Trino spelling of the same function. */
export const RENAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  json_extract_string: 'json_extract_scalar',
  regexp_matches: 'regexp_like',
  arg_min: 'min_by',
  arg_max: 'max_by',
  list: 'array_agg',
  epoch: 'to_unixtime',
  list_contains: 'contains',
};

/** strftime fields and their Trino date_format spelling. */
const DATE_FIELDS: Readonly<Record<string, string>> = { Y: '%Y', m: '%m', d: '%d', H: '%H', M: '%i', S: '%s', '%': '%%' };

/** DuckDB cast targets and their Trino names. */
const TYPES: Readonly<Record<string, string>> = {
  varchar: 'varchar', text: 'varchar', string: 'varchar', json: 'json', boolean: 'boolean', bool: 'boolean',
  integer: 'integer', int: 'integer', bigint: 'bigint', double: 'double', timestamptz: 'timestamp with time zone',
  date: 'date',
};

const INTERVAL_UNITS = new Set(['second', 'minute', 'hour', 'day', 'month', 'year']);

/** Words that are never the start of an expression a postfix `::` or `[…]` could apply to. */
const KEYWORDS = new Set([
  'all', 'and', 'as', 'asc', 'between', 'by', 'case', 'cross', 'desc', 'distinct', 'else', 'end', 'except', 'exists', 'filter',
  'from', 'full', 'group', 'having', 'in', 'inner', 'intersect', 'is', 'join', 'left', 'like', 'limit', 'not', 'on',
  'or', 'order', 'outer', 'over', 'partition', 'right', 'select', 'then', 'union', 'using', 'values', 'when', 'where',
  'with', 'rows', 'range', 'preceding', 'following', 'unbounded', 'current', 'row',
]);

type TokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'number' | 'word' | 'punct';

/** A lexical token of a SQL text. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

/**
 * Splits SQL into tokens (whitespace and comments kept, so that the output reads like the input).
 * Not node-sql-parser's AST: it is a devDependency (the render tests check the output with
 * its Trino grammar), and printing its AST back loses the comments and layout that make a
 * rendered detection readable in the Athena console; the token walk rewrites only the
 * spellings listed above and refuses the rest.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const rules: ReadonlyArray<readonly [TokenKind, RegExp]> = [
    ['space', /\s+/y],
    ['comment', /--[^\n]*/y],
    ['comment', /\/\*[\s\S]*?\*\//y],
    ['string', /'(?:[^']|'')*'/y],
    ['quoted', /"(?:[^"]|"")*"/y],
    ['number', /\d+(?:\.\d+)?/y],
    ['word', /[A-Za-z_][A-Za-z0-9_$]*/y],
    ['punct', /::|<>|!=|<=|>=|\|\||[(),.[\]*+\-/%<>=;:?]/y],
  ];
  let at = 0;
  outer: while (at < sql.length) {
    for (const [kind, re] of rules) {
      re.lastIndex = at;
      const m = re.exec(sql);
      if (m) {
        tokens.push({ kind, text: m[0] });
        at += m[0].length;
        continue outer;
      }
    }
    throw new NotPortableError(`cannot read the SQL at "${sql.slice(at, at + 20)}"`);
  }
  return tokens;
}

interface Piece {
  text: string;
  /** A complete primary expression (name, literal, call, parenthesised group), which `::` and `[…]` may follow. */
  primary: boolean;
  /** Lower-case name of the function, when the piece is a call. */
  call?: string;
}

/**
 * Translates DuckDB SQL (a detection, or any query in the shared subset) to Trino SQL.
 * Throws NotPortableError naming the construct when it cannot.
 *
 * @example toTrino("select arg_min(eventid, eventtime) from events") // "select min_by(eventid, eventtime) from events"
 */
export function toTrino(sql: string): string {
  const tokens = tokenize(sql);
  return walk(tokens, 0, tokens.length).map((p) => p.text).join('');
}

function matching(tokens: readonly Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']' };
  const close = pairs[tokens[open]!.text]!;
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'punct') continue;
    if (t.text === '(' || t.text === '[') depth++;
    if (t.text === ')' || t.text === ']') {
      depth--;
      if (depth === 0) {
        if (t.text !== close) throw new NotPortableError(`unbalanced "${tokens[open]!.text}" in the SQL`);
        return i;
      }
    }
  }
  throw new NotPortableError(`unbalanced "${tokens[open]!.text}" in the SQL`);
}

function nextSolid(tokens: readonly Token[], from: number, end: number): number {
  let i = from;
  while (i < end && (tokens[i]!.kind === 'space' || tokens[i]!.kind === 'comment')) i++;
  return i;
}

/** Splits tokens [start, end) at top-level commas. */
function splitArgs(tokens: readonly Token[], start: number, end: number): Array<[number, number]> {
  const args: Array<[number, number]> = [];
  let from = start;
  let depth = 0;
  for (let i = start; i < end; i++) {
    const t = tokens[i]!.text;
    if (tokens[i]!.kind !== 'punct') continue;
    if (t === '(' || t === '[') depth++;
    else if (t === ')' || t === ']') depth--;
    else if (t === ',' && depth === 0) {
      args.push([from, i]);
      from = i + 1;
    }
  }
  args.push([from, end]);
  return args;
}

function render(tokens: readonly Token[], start: number, end: number): string {
  return walk(tokens, start, end).map((p) => p.text).join('');
}

function walk(tokens: readonly Token[], start: number, end: number): Piece[] {
  const out: Piece[] = [];
  const lastPrimary = (): Piece => {
    const last = out.at(-1);
    if (!last?.primary) throw new NotPortableError('a "::" cast or subscript follows something that is not a value; write cast(… as …)');
    return last;
  };
  let i = start;
  while (i < end) {
    const t = tokens[i]!;
    const lower = t.text.toLowerCase();
    if (t.kind === 'space' || t.kind === 'comment') {
      out.push({ text: t.text, primary: false });
      i++;
    } else if (t.kind === 'string' || t.kind === 'number') {
      out.push({ text: t.text, primary: true });
      i++;
    } else if (t.kind === 'word' && lower === 'qualify') {
      throw new NotPortableError('QUALIFY has no Trino form; filter a subquery on row_number() instead');
    } else if (t.kind === 'word' && lower === 'interval') {
      const [text, next] = interval(tokens, i, end);
      out.push({ text, primary: true });
      i = next;
    } else if (t.kind === 'word' || t.kind === 'quoted') {
      const open = nextSolid(tokens, i + 1, end);
      let before = i - 1;
      while (before >= start && (tokens[before]!.kind === 'space' || tokens[before]!.kind === 'comment')) before--;
      // `as t (col)` names a relation and its columns (after unnest), not a call of t.
      const aliased = before >= start && tokens[before]!.text.toLowerCase() === 'as';
      if (t.kind === 'word' && open < end && tokens[open]!.text === '(' && !KEYWORDS.has(lower) && !aliased) {
        const close = matching(tokens, open);
        out.push(call(tokens, t.text, open, close));
        i = close + 1;
      } else {
        // A name, possibly qualified: a.b.c (struct fields on Trino, the same text on DuckDB).
        let text = t.text;
        let j = i + 1;
        while (j + 1 < end && tokens[j]!.text === '.' && (tokens[j + 1]!.kind === 'word' || tokens[j + 1]!.kind === 'quoted' || tokens[j + 1]!.text === '*')) {
          text += `.${tokens[j + 1]!.text}`;
          j += 2;
        }
        out.push({ text, primary: t.kind === 'quoted' || !KEYWORDS.has(lower) });
        i = j;
      }
    } else if (t.text === '(') {
      const close = matching(tokens, i);
      out.push({ text: `(${render(tokens, i + 1, close)})`, primary: true });
      i = close + 1;
    } else if (t.text === '[') {
      const close = matching(tokens, i);
      const inner = render(tokens, i + 1, close);
      const previous = out.at(-1);
      if (previous?.primary) {
        previous.text += `[${inner}]`;
        delete previous.call;
      } else {
        out.push({ text: `array[${inner}]`, primary: true });
      }
      i = close + 1;
    } else if (t.text === '::') {
      const operand = lastPrimary();
      let j = nextSolid(tokens, i + 1, end);
      const type = tokens[j]?.text.toLowerCase() ?? '';
      j++;
      if (tokens[j]?.text === '[' && tokens[j + 1]?.text === ']') throw new NotPortableError(`the cast to ${type}[] has no portable form`);
      out.pop();
      out.push({ text: castText(operand, type), primary: true });
      i = j;
    } else {
      out.push({ text: t.text, primary: false });
      i++;
    }
  }
  return out;
}

function castText(operand: Piece, type: string): string {
  const target = TYPES[type];
  if (!target) throw new NotPortableError(`no Trino type for the cast to ${type}`);
  // Trino refuses to cast a JSON array or object to varchar; json_format gives its text, as DuckDB's cast does.
  if (target === 'varchar' && operand.call === 'json_extract') return `json_format(${operand.text})`;
  return `cast(${operand.text} as ${target})`;
}

function interval(tokens: readonly Token[], at: number, end: number): [string, number] {
  const value = nextSolid(tokens, at + 1, end);
  const v = tokens[value];
  if (v?.kind === 'number') {
    const unitAt = nextSolid(tokens, value + 1, end);
    return [`interval '${v.text}' ${intervalUnit(tokens[unitAt]?.text ?? '')}`, unitAt + 1];
  }
  if (v?.kind === 'string') {
    const m = /^'\s*(\d+)\s+([a-z]+)\s*'$/i.exec(v.text);
    if (m) return [`interval '${m[1]}' ${intervalUnit(m[2]!)}`, value + 1];
    const unitAt = nextSolid(tokens, value + 1, end);
    if (/^'\d+'$/.test(v.text) && tokens[unitAt]?.kind === 'word') return [`interval ${v.text} ${intervalUnit(tokens[unitAt]!.text)}`, unitAt + 1];
  }
  throw new NotPortableError('write intervals as interval 1 day, interval \'1 day\' or interval \'1\' day');
}

function intervalUnit(word: string): string {
  const unit = word.toLowerCase().replace(/s$/, '');
  if (!INTERVAL_UNITS.has(unit)) throw new NotPortableError(`interval unit "${word}" is not one of ${[...INTERVAL_UNITS].join(', ')}`);
  return unit;
}

function call(tokens: readonly Token[], name: string, open: number, close: number): Piece {
  const fn = name.toLowerCase();
  const args = () => splitArgs(tokens, open + 1, close).map(([s, e]) => render(tokens, s, e).trim());
  const inner = () => render(tokens, open + 1, close);
  if (fn === 'strftime') {
    const [time, format, ...rest] = args();
    if (!format || rest.length > 0 || !/^'[^']*'$/.test(format)) throw new NotPortableError('strftime needs a literal format');
    return { text: `date_format(${time}, ${dateFormat(format)})`, primary: true, call: 'date_format' };
  }
  if (fn === 'date_diff' || fn === 'datediff') {
    const [unit, from, to, ...rest] = args();
    if (!unit || !from || !to || rest.length > 0 || !/^'(second|minute|hour|day|month|year)'$/i.test(unit)) {
      throw new NotPortableError("date_diff needs a literal unit ('second' … 'year') and two times");
    }
    return { text: `date_diff(${unit}, date_trunc(${unit}, ${from}), date_trunc(${unit}, ${to}))`, primary: true, call: 'date_diff' };
  }
  if (fn === 'cast' || fn === 'try_cast') {
    // The operand is walked once, from the original tokens (a translated text walked again would not read as DuckDB).
    let asAt = -1;
    for (let i = open + 1, depth = 0; i < close; i++) {
      const t = tokens[i]!;
      if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++;
      else if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) depth--;
      else if (depth === 0 && t.kind === 'word' && t.text.toLowerCase() === 'as') asAt = i;
    }
    const type = asAt < 0 ? '' : render(tokens, asAt + 1, close).trim();
    if (asAt < 0 || !/^[a-z]+$/i.test(type)) throw new NotPortableError(`${fn}(…) needs "as <type>"`);
    const first = nextSolid(tokens, open + 1, asAt);
    let last = asAt;
    while (last > first && (tokens[last - 1]!.kind === 'space' || tokens[last - 1]!.kind === 'comment')) last--;
    const operand = walk(tokens, first, last);
    const single = operand.length === 1 ? operand[0]! : { text: operand.map((p) => p.text).join(''), primary: true };
    const target = TYPES[type.toLowerCase()];
    if (!target) throw new NotPortableError(`no Trino type for the cast to ${type}`);
    if (target === 'varchar' && single.call === 'json_extract') return { text: `json_format(${single.text})`, primary: true, call: 'json_format' };
    return { text: `${fn}(${single.text} as ${target})`, primary: true, call: fn };
  }
  if (fn === 'regexp_matches' && args().length !== 2) throw new NotPortableError('regexp_matches with options has no Trino form');
  if (fn === 'json_extract' || fn === 'json_extract_string') {
    const [json, path, ...rest] = args();
    if (!json || !path || rest.length > 0) throw new NotPortableError(`${fn} needs a JSON value and one path`);
    const name = fn === 'json_extract' ? 'json_extract' : 'json_extract_scalar';
    return { text: `${name}(${json}, ${/^'[^']*'$/.test(path) ? jsonPath(path) : path})`, primary: true, call: name };
  }
  const renamed = RENAMED_FUNCTIONS[fn];
  if (renamed) return { text: `${renamed}(${inner()})`, primary: true, call: renamed };
  if (PORTABLE_FUNCTIONS.has(fn)) return { text: `${name}(${inner()})`, primary: true, call: fn };
  throw new NotPortableError(`${name}() is not known to behave the same on Trino; add it to the dialect layer or mark the detection engines: [duckdb]`);
}

/**
 * A DuckDB JSON path literal in the form Trino reads: keys that are not plain names
 * (`$.x-amz-acl`, `$."a b"`) become `$["x-amz-acl"]`.
 */
export function jsonPath(literal: string): string {
  const path = literal.slice(1, -1);
  if (!path.startsWith('$')) throw new NotPortableError(`JSON path ${literal} must start with $`);
  let out = '$';
  const segment = /\.(?:"((?:[^"\\]|\\.)*)"|([^.[]+))|\[(\d+)\]/y;
  for (let at = 1; at < path.length; ) {
    segment.lastIndex = at;
    const m = segment.exec(path);
    if (!m) throw new NotPortableError(`cannot read the JSON path ${literal} at "${path.slice(at)}"`);
    const key = m[1] ?? m[2];
    if (m[3] !== undefined) out += `[${m[3]}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key!)) out += `.${key}`;
    else out += `["${key!.replace(/["\\]/g, (c) => `\\${c}`)}"]`;
    at = segment.lastIndex;
  }
  return `'${out}'`;
}

/** Turns a strftime format literal into a Trino date_format one. */
export function dateFormat(literal: string): string {
  const body = literal.slice(1, -1).replace(/%(.)/g, (_m, field: string) => {
    const mapped = DATE_FIELDS[field];
    if (!mapped) throw new NotPortableError(`strftime field %${field} has no translation`);
    return mapped;
  });
  return `'${body}'`;
}

/** A SQL string literal holding `value` (single quotes doubled; Trino strings have no backslash escapes). */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new NotPortableError('a SQL string cannot hold a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A double-quoted identifier; only plain lower-case names are accepted, the way Glue stores them. */
export function sqlIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new NotPortableError(`"${name}" is not a plain lower-case name`);
  return `"${name}"`;
}

/** A query split into its WITH items and its final statement, so that more items can be put before them. */
export interface SplitQuery {
  /** `name as (…)` items, without the leading `with`. */
  readonly ctes: readonly string[];
  readonly body: string;
}

/** Splits `with a as (…), b as (…) select …` into its parts (no WITH: no items). */
export function splitWith(sql: string): SplitQuery {
  const tokens = tokenize(sql);
  let i = nextSolid(tokens, 0, tokens.length);
  if (tokens[i]?.text.toLowerCase() !== 'with') return { ctes: [], body: sql.trim() };
  const ctes: string[] = [];
  i++;
  for (;;) {
    const start = nextSolid(tokens, i, tokens.length);
    let j = start;
    while (j < tokens.length && tokens[j]!.text.toLowerCase() !== 'as') j++;
    j = nextSolid(tokens, j + 1, tokens.length);
    if (tokens[j]?.text !== '(') throw new NotPortableError('a WITH item has no body');
    const close = matching(tokens, j);
    ctes.push(tokens.slice(start, close + 1).map((t) => t.text).join(''));
    const next = nextSolid(tokens, close + 1, tokens.length);
    if (tokens[next]?.text === ',') {
      i = next + 1;
      continue;
    }
    return { ctes, body: tokens.slice(next).map((t) => t.text).join('').trim() };
  }
}
