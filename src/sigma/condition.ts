/**
 * The Sigma condition language: `and`, `or`, `not`, parentheses, `1 of` / `all of` a
 * search-identifier pattern or `them`. Precedence, loosest first: or, and, not, x of, ( ).
 * Patterns match identifiers with `*` anywhere; `them` means every identifier not
 * starting with `_`.
 */
import { SigmaUnsupportedError } from './errors.js';

/** A parsed condition, with `x of` already resolved to the identifiers it names. */
export type Condition =
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'and'; readonly items: readonly Condition[] }
  | { readonly kind: 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition };

type Token = { readonly kind: 'word' | 'open' | 'close'; readonly text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|([^\s()]+))/y;
  for (let at = 0; at < text.length; ) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m || m[0].trim() === '') break;
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'open', text: '(' });
    else if (m[2]) tokens.push({ kind: 'close', text: ')' });
    else tokens.push({ kind: 'word', text: m[3]! });
  }
  return tokens;
}

/** Whether a search identifier matches a pattern with `*` wildcards (`selection*`, `*_filter`). */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/**
 * Parses a condition over the given search identifiers. Throws SigmaUnsupportedError for an
 * aggregation (`| count() …`), an unknown identifier, or a malformed expression.
 *
 * @example parseCondition('selection and not 1 of filter_*', ['selection', 'filter_a']) // and(ref selection, not(or(ref filter_a)))
 */
export function parseCondition(text: string, identifiers: readonly string[]): Condition {
  if (text.includes('|')) throw new SigmaUnsupportedError('the condition has an aggregation (" | count() …"), which Sigma 2 replaced by correlation rules; it is not run');
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const word = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w;
  const fail = (what: string): never => {
    throw new SigmaUnsupportedError(`condition "${text}": ${what}`);
  };
  const or = (): Condition => {
    const items = [and()];
    while (word(peek(), 'or')) {
      at++;
      items.push(and());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };
  const and = (): Condition => {
    const items = [not()];
    while (word(peek(), 'and')) {
      at++;
      items.push(not());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  const not = (): Condition => {
    if (word(peek(), 'not')) {
      at++;
      return { kind: 'not', item: not() };
    }
    return primary();
  };
  const primary = (): Condition => {
    const t = peek();
    if (!t) return fail('ends where an identifier or "(" was expected');
    if (t.kind === 'open') {
      at++;
      const inner = or();
      if (peek()?.kind !== 'close') fail('a "(" is not closed');
      at++;
      return inner;
    }
    if (t.kind === 'close') return fail('has a ")" without its "("');
    const quantifier = t.text.toLowerCase();
    if ((quantifier === 'all' || /^\d+$/.test(quantifier)) && word(tokens[at + 1], 'of')) {
      const target = tokens[at + 2];
      if (target?.kind !== 'word') return fail(`"${t.text} of" needs "them" or an identifier pattern`);
      at += 3;
      const names = target.text.toLowerCase() === 'them' ? identifiers.filter((n) => !n.startsWith('_')) : identifiers.filter((n) => matchesPattern(n, target.text));
      if (names.length === 0) return fail(`"${t.text} of ${target.text}" names no search identifier`);
      if (quantifier !== 'all' && quantifier !== '1') return fail(`"${t.text} of" is not supported (only "1 of" and "all of")`);
      const items = names.map((name): Condition => ({ kind: 'ref', name }));
      if (items.length === 1) return items[0]!;
      return quantifier === 'all' ? { kind: 'and', items } : { kind: 'or', items };
    }
    if (['and', 'or', 'of', 'them'].includes(quantifier)) return fail(`"${t.text}" where an identifier was expected`);
    if (!identifiers.includes(t.text)) return fail(`names "${t.text}", which the detection does not define`);
    at++;
    return { kind: 'ref', name: t.text };
  };
  if (tokens.length === 0) fail('is empty');
  const result = or();
  if (at < tokens.length) fail(`has "${tokens[at]!.text}" where the expression should end`);
  return result;
}
