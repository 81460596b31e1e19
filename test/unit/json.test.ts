import { describe, expect, it } from 'vitest';
import { JsonDepthMeter, jsonDepth, parseJsonFirstWins } from '../../src/core/json.js';
import { stringsUnder } from '../../src/report/evidence.js';
import { Random } from '../../synth/random.js';

/** A random JSON value: nesting, every type, awkward strings. */
function randomValue(rng: Random, depth: number): unknown {
  const pick = rng.int(0, depth > 6 ? 4 : 7);
  switch (pick) {
    case 0: return null;
    case 1: return rng.int(0, 1) === 1;
    case 2: return rng.int(-1e6, 1e6) / 8;
    case 3: return ['', 'a"b', 'back\\slash', 'line\nbreak', '\u0000\u001f', 'é🦆', '{"not":"json"}'][rng.int(0, 6)];
    case 4: return 1e21;
    case 5: return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--) out[['k', 'userName', '', '__proto__', 'a b', `k${i}`][rng.int(0, 5)]!] = randomValue(rng, depth + 1);
      return out;
    }
  }
}

describe('parseJsonFirstWins', () => {
  it('reads what JSON.parse reads when no key repeats', () => {
    const rng = new Random('json');
    for (let i = 0; i < 2000; i++) {
      const text = JSON.stringify(randomValue(rng, 0), null, i % 3 === 0 ? 1 : undefined);
      expect(parseJsonFirstWins(text)).toEqual({ value: JSON.parse(text), duplicateKeys: false });
    }
  });

  it('keeps the first of repeated keys, as DuckDB does, at any level and however the key is spelled', () => {
    expect(parseJsonFirstWins('{"a":1,"a":2}')).toEqual({ value: { a: 1 }, duplicateKeys: true });
    expect(parseJsonFirstWins('{"u":{"n":"innocent","n":"backdoor"},"n":3}').value).toEqual({ u: { n: 'innocent' }, n: 3 });
    expect(parseJsonFirstWins('{"a":1,"\\u0061":2}').value).toEqual({ a: 1 });
    expect(parseJsonFirstWins('{"x":"b","":1,"":2}').value).toEqual({ x: 'b', '': 1 });
    const proto = parseJsonFirstWins('{"__proto__":{"polluted":1},"__proto__":2}').value as Record<string, unknown>;
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects what JSON.parse rejects', () => {
    for (const bad of ['{"a":1,"a":2', '{"a" 1,"a":2}', '{"a":1,"a":}', '{"a":01,"a":1}', '{"a":"\u0001","a":1}', '{"a":1,"a":2} x', '{"a":tru,"a":1}']) {
      expect(() => JSON.parse(bad)).toThrow(SyntaxError);
      expect(() => parseJsonFirstWins(bad)).toThrow(SyntaxError);
    }
  });

  it('parses 200,000 levels with repeated keys without using the stack', () => {
    const n = 200_000;
    const text = `${'{"a":1,"a":'.repeat(n)}0${'}'.repeat(n)}`;
    const { value, duplicateKeys } = parseJsonFirstWins(text);
    expect(duplicateKeys).toBe(true);
    expect(value).toEqual({ a: 1 });
    expect(jsonDepth(text)).toBe(n);
  });
});

describe('jsonDepth', () => {
  it('does not count brackets inside strings', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
    expect(jsonDepth('[[],[[{}]]]')).toBe(4);
  });
});

describe('JsonDepthMeter', () => {
  const measure = (bytes: Uint8Array, cuts: readonly number[]) => {
    const meter = new JsonDepthMeter();
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      meter.push(bytes.subarray(from, cut));
      from = cut;
    }
    return meter.max;
  };

  it('measures what jsonDepth measures, however the bytes are cut (strings, escapes and brackets in strings across the cuts)', () => {
    const rng = new Random('depth-meter');
    for (let n = 0; n < 400; n++) {
      const text = JSON.stringify(randomValue(rng, 0)) ?? 'null';
      // Escaped quotes and runs of backslashes next to brackets, the hard cases for a cut.
      const awkward = String.raw`{"a":"\\\\","b":"\\\"[[[","c":[${text},"]]]\\"],"d":{"e":"\\"}}`;
      expect(() => JSON.parse(awkward)).not.toThrow();
      for (const sample of [text, awkward]) {
        const bytes = Buffer.from(sample, 'utf8');
        const cuts = Array.from({ length: rng.int(0, 6) }, () => rng.int(0, bytes.length)).sort((x, y) => x - y);
        expect(measure(bytes, cuts)).toBe(jsonDepth(sample));
        // Every single cut point, on the short ones.
        if (bytes.length < 80) for (let cut = 0; cut <= bytes.length; cut++) expect(measure(bytes, [cut])).toBe(jsonDepth(sample));
      }
    }
  });

  it('counts 100,000 levels without recursion, and no bracket inside a string', () => {
    const deep = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(measure(deep, [50_000])).toBe(100_000);
    expect(measure(Buffer.from(`{"s":"${'['.repeat(500)}"}`), [3])).toBe(1);
  });
});

describe('stringsUnder', () => {
  it('finds values in document order, and walks 100,000 levels without recursion', () => {
    expect(stringsUnder({ items: [{ id: 'a' }, { x: { id: 'b' } }], id: ['c', 1] }, 'id')).toEqual(['a', 'b', 'c']);
    let deep: unknown = { id: 'bottom' };
    for (let i = 0; i < 100_000; i++) deep = { next: [deep] };
    expect(stringsUnder(deep, 'id')).toEqual(['bottom']);
  });
});
