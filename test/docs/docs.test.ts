import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docFiles, staleDocs } from '../../scripts/docs.js';
import { packageRoot } from '../../src/core/version.js';
import { docExamples, shellWords } from './doc-examples.js';

const root = packageRoot();
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, TRAILHOUND_DB: 'case.duckdb', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('shell words of a docs example', () => {
  it('splits quotes, escapes, continuations and comments as a shell would', () => {
    expect(shellWords(`trailhound query "select 'a' as x" --format csv  # a comment`)).toEqual({ words: ['trailhound', 'query', "select 'a' as x", '--format', 'csv'], comment: 'a comment' });
    expect(shellWords("trailhound a \\\n  --b 'c d' e\\ f").words).toEqual(['trailhound', 'a', '--b', 'c d', 'e f']);
    expect(shellWords('x "multi\n line"').words).toEqual(['x', 'multi\n line']);
  });
});

describe('the docs', () => {
  it('have their generated parts (option tables, detection table, demo output) up to date: run npm run docs', () => {
    const stale = staleDocs(root).map((s) => s.path.slice(root.length + 1));
    expect(stale, 'stale generated docs; run npm run docs').toEqual([]);
  });

  const examples = docFiles(root).flatMap((f) => docExamples(f, root));
  const offline = examples.filter((e) => !e.needs);
  const files = [...new Set(offline.map((e) => e.file))];

  it('hold examples, most of which run offline', () => {
    expect(offline.length).toBeGreaterThanOrEqual(30);
    for (const e of examples.filter((x) => x.needs)) expect(e.needs, `${e.file}:${e.line}`).toMatch(/\S/);
  });

  let demo: string;
  beforeAll(async () => {
    demo = mkdtempSync(join(tmpdir(), 'trailhound-docs-store-'));
    const made = await run(['demo', '--db', 'case.duckdb'], demo);
    expect(made.code, made.stderr).toBe(0);
  });
  afterAll(() => rmSync(demo, { recursive: true, force: true }));

  // Each page runs its examples in order in a workspace of its own: the demo store under the
  // names the docs use, and the demo evidence where the docs' paths point.
  it.concurrent.each(files)('every offline example of %s runs against the demo store', { timeout: 600_000 }, async (file) => {
    const dir = mkdtempSync(join(tmpdir(), 'trailhound-docs-run-'));
    try {
      mkdirSync(join(dir, 'cases'));
      for (const name of ['case.duckdb', 'trailhound.duckdb', 'trailhound-demo.duckdb', join('cases', 'acme.duckdb')]) copyFileSync(join(demo, 'case.duckdb'), join(dir, name));
      symlinkSync(join(root, 'fixtures'), join(dir, 'fixtures'));
      symlinkSync(join(root, 'fixtures', 'demo'), join(dir, 'acme'));
      for (const e of offline.filter((x) => x.file === file)) {
        const r = await run(e.args, dir);
        const where = `${e.file}:${e.line}: ${e.text}\n${r.stderr}`;
        expect(r.code, where).toBe(0);
        expect(r.stderr, where).not.toMatch(/unexpected error/i);
        if (e.stdoutTo) writeFileSync(join(dir, e.stdoutTo), r.stdout);
        else if (!e.args.includes('--out')) expect(r.stdout.length, where).toBeGreaterThan(0);
        if (e.args.includes('--out')) expect(existsSync(join(dir, e.args[e.args.indexOf('--out') + 1]!)), where).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
