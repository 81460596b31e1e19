import { describe, expect, it } from 'vitest';
import { matchesPattern, parseCondition, type Condition } from '../../src/sigma/condition.js';
import { SigmaUnsupportedError } from '../../src/sigma/errors.js';

/** A condition as a compact string, to compare trees at a glance. */
function show(c: Condition): string {
  if (c.kind === 'ref') return c.name;
  if (c.kind === 'not') return `not(${show(c.item)})`;
  return `${c.kind}(${c.items.map(show).join(',')})`;
}

const ids = ['selection', 'selection_a', 'selection_b', 'filter_x', 'filter_y', '_hidden', 'keywords'];
const parse = (text: string) => show(parseCondition(text, ids));

describe('Sigma condition parser', () => {
  it('reads a single identifier', () => {
    expect(parse('selection')).toBe('selection');
  });

  it('binds and tighter than or, not tighter than and', () => {
    expect(parse('selection or selection_a and not filter_x')).toBe('or(selection,and(selection_a,not(filter_x)))');
    expect(parse('not selection and keywords')).toBe('and(not(selection),keywords)');
  });

  it('follows parentheses', () => {
    expect(parse('(selection or selection_a) and not (filter_x or filter_y)')).toBe('and(or(selection,selection_a),not(or(filter_x,filter_y)))');
    expect(parse('((selection))')).toBe('selection');
  });

  it('reads keywords in any case', () => {
    expect(parse('selection AND NOT filter_x OR keywords')).toBe('or(and(selection,not(filter_x)),keywords)');
  });

  it('expands 1 of / all of a pattern to the identifiers it matches', () => {
    expect(parse('1 of selection*')).toBe('or(selection,selection_a,selection_b)');
    expect(parse('all of selection_*')).toBe('and(selection_a,selection_b)');
    expect(parse('selection and not 1 of filter_*')).toBe('and(selection,not(or(filter_x,filter_y)))');
    expect(parse('1 of *_a')).toBe('selection_a');
  });

  it('expands them to every identifier not starting with _', () => {
    expect(parse('1 of them')).toBe('or(selection,selection_a,selection_b,filter_x,filter_y,keywords)');
    expect(parse('all of them')).toBe('and(selection,selection_a,selection_b,filter_x,filter_y,keywords)');
    expect(parse('_hidden')).toBe('_hidden');
  });

  it.each([
    ['selection and', 'ends where'],
    ['(selection', 'not closed'],
    ['selection)', 'should end'],
    ['selection and unknown', 'does not define'],
    ['1 of nothing*', 'names no search identifier'],
    ['2 of selection*', 'only "1 of" and "all of"'],
    ['selection | count() > 5', 'aggregation'],
    ['', 'is empty'],
  ])('refuses "%s" with a reason', (text, reason) => {
    expect(() => parseCondition(text, ids)).toThrow(SigmaUnsupportedError);
    expect(() => parseCondition(text, ids)).toThrow(reason);
  });

  it('matches identifier patterns with * anywhere and nothing else special', () => {
    expect(matchesPattern('selection_a', 'sel*_a')).toBe(true);
    expect(matchesPattern('selectionXa', 'selection.a')).toBe(false);
    expect(matchesPattern('selection', 'selection')).toBe(true);
  });
});
