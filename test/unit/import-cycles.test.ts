import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph } from '../../scripts/import-cycles.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('import cycles', () => {
  it('finds none between the modules of src, bench, scripts and test', () => {
    const graph = importGraph(ROOT, ['src', 'bench', 'scripts', 'test']);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/cli/analyze-command.ts')).toContain('src/cli/athena-command.ts');
    expect(findCycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('reports a cycle through static, type-only and dynamic imports alike', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(findCycles(graph)).toEqual([
      ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
      ['e.ts', 'e.ts'],
    ]);
  });
});
