import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverFiles } from '../../src/ingest/discover.js';
import { cli } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;

beforeAll(() => {
  ws = new Workspace();
  ws.write('case/logs/a.json', recordsFile(records(3, 1)));
  ws.write('outside/secret.json', recordsFile(records(2, 2)));
  ws.write('case/logs/sub/b.json', recordsFile(records(2, 3)));
  // A loop back to an ancestor, a link to the same file, a link out of the case folder, a dangling link.
  symlinkSync(ws.path('case'), ws.path('case/logs/sub/loop'));
  symlinkSync(ws.path('case/logs/a.json'), ws.path('case/logs/again.json'));
  symlinkSync(ws.path('outside'), ws.path('case/logs/out'));
  symlinkSync(ws.path('nowhere.json'), ws.path('case/logs/dangling.json'));
  mkdirSync(ws.path('case/fifo'));
  execFileSync('mkfifo', [ws.path('case/fifo/stream.json')]);
});
afterAll(() => ws.dispose());

const names = (paths: ReadonlyArray<{ path: string }>) => paths.map((p) => basename(p.path)).sort();

describe('walking folders an attacker may have shaped', () => {
  it('ends a link loop, reads a file reached by two names once, and reports links out of the case folder', async () => {
    const found = await discoverFiles([ws.path('case/logs')]);
    expect(names(found.files)).toEqual(['a.json', 'b.json']);
    const reasons = new Map(found.unreadable.map((u) => [basename(u.path), u.reason]));
    expect(reasons.get('out')).toMatch(/^a symbolic link to .*outside, outside the paths given; not followed \(name the target, or pass --follow-symlinks\)$/);
    expect(reasons.get('dangling.json')).toMatch(/a symbolic link to nothing/);
    // The loop points at an ancestor outside the path given, so it is reported, not walked.
    expect(reasons.get('loop')).toMatch(/outside the paths given/);
  });

  it('walks a loop inside the paths given once, and follows links out with followSymlinks', async () => {
    const found = await discoverFiles([ws.path('case')], {}, { followSymlinks: true });
    expect(names(found.files)).toEqual(['a.json', 'b.json', 'secret.json']);
    expect(found.unreadable.map((u) => basename(u.path)).sort()).toEqual(['dangling.json', 'stream.json']);
  });

  it('reports a FIFO, found or named, and a device named, instead of reading it', async () => {
    const fifo = ws.path('case/fifo/stream.json');
    const found = await discoverFiles([ws.path('case/fifo'), fifo, '/dev/zero']);
    expect(found.files).toEqual([]);
    expect(found.unreadable).toEqual([
      { path: join(ws.path('case/fifo'), 'stream.json'), reason: 'not a regular file (a FIFO, device or socket); copy the log into a file and ingest that' },
      { path: fifo, reason: 'not a regular file (a FIFO, device or socket); copy the log into a file and ingest that' },
      { path: '/dev/zero', reason: 'not a regular file (a FIFO, device or socket); copy the log into a file and ingest that' },
    ]);
  });

  it('ingest goes on past them, loads the good files and exits 3 naming each', () => {
    const db = ws.path('t.duckdb');
    const result = cli(['ingest', ws.path('case'), '/dev/zero', '--db', db, '--format', 'json']);
    expect(result.code).toBe(3);
    const summary = JSON.parse(result.stdout) as { eventsLoaded: number; skipped: Array<{ path: string; reason: string }> };
    expect(summary.eventsLoaded).toBe(5);
    expect(summary.skipped.map((s) => basename(s.path)).sort()).toEqual(['dangling.json', 'out', 'stream.json', 'zero']);
  });
});
