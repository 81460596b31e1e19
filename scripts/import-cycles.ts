/**
 * Finds import cycles between the project's own TypeScript modules. Every kind of import
 * counts (static, `import type`, `export … from`, dynamic `import()`), because a cycle hidden
 * behind a lazy import is still two modules that cannot be understood apart.
 *
 *   node dist/scripts/import-cycles.js [folder…]   # default: src synth bench scripts; exit 1 on a cycle
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Each module (path relative to root) and the project modules it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every `.ts` file under the folders, without declaration files. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Reads the import graph of the folders under root (relative specifiers only: packages are not ours). */
export function importGraph(root: string, folders: readonly string[]): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const folder of folders) {
    for (const file of tsFiles(resolve(root, folder))) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = info.importedFiles
        .map((f) => f.fileName)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative(root, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
      graph.set(relative(root, file), [...new Set(targets)].sort());
    }
  }
  return graph;
}

/** The cycles of the graph, one per strongly connected component, each as the modules on one loop. */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's strongly connected components; a component of two or more modules (or a
  // module importing itself) holds a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => loopThrough(graph, new Set(c))).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One concrete loop inside a strongly connected component, starting at its first module by name. */
function loopThrough(graph: ImportGraph, members: ReadonlySet<string>): string[] {
  const start = [...members].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(dirname(process.argv[1]), '..', '..');
  const folders = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'synth', 'bench', 'scripts'];
  const cycles = findCycles(importGraph(root, folders));
  for (const cycle of cycles) process.stderr.write(`import cycle: ${cycle.join(' -> ')}\n`);
  if (cycles.length > 0) process.exitCode = 1;
  else process.stdout.write(`import-cycles: none in ${folders.join(', ')}\n`);
}
