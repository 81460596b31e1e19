import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/version.js';

const root = packageRoot();

describe('the package as users install it (npm pack, npm install -g)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // --ignore-scripts: the build has already run (pretest); only the file list is wanted.
  const packed = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
  const files = new Set(packed[0]!.files.map((f) => f.path));

  it('ships the built CLI that "bin" names, with a node shebang, and builds it on prepare', () => {
    const bin = pkg.bin['trailhound']!;
    expect(files.has(bin)).toBe(true);
    expect(readFileSync(join(root, bin), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(pkg.scripts['prepare']).toMatch(/build/);
  });

  it('ships the detections, the demo scenario and the docs, and no tests, benchmarks, scripts or synthetic-data generators', () => {
    expect([...files].some((f) => f.startsWith('queries/') && f.endsWith('.sql'))).toBe(true);
    expect([...files].some((f) => f.startsWith('fixtures/demo/AWSLogs/'))).toBe(true);
    expect(files.has('docs/README.md')).toBe(true);
    expect([...files].filter((f) => /^(dist\/)?(test|bench|scripts|synth)\//.test(f))).toEqual([]);
  });
});
