import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph } from '../../scripts/import-cycles.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('import cycles', () => {
  it('finds none between the modules of src, synth, bench, scripts and test', () => {
    const graph = importGraph(ROOT, ['src', 'synth', 'bench', 'scripts', 'test']);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/cli/analyze-command.ts')).toContain('src/cli/engine-options.ts');
    // A dynamic import is an edge too.
    expect(graph.get('src/cli/engine-options.ts')).toContain('src/engines/athena-engine.ts');
    expect(findCycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps what ships (src/) free of imports from the folders that do not ship', () => {
    const graph = importGraph(ROOT, ['src']);
    const outside = [...graph].flatMap(([from, targets]) => targets.filter((t) => !t.startsWith('src/')).map((t) => `${from} -> ${t}`));
    expect(outside).toEqual([]);
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
