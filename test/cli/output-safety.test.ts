import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStoreFile } from '../../src/store/store.js';
import { BIN, cli } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let db: string;

beforeAll(() => {
  ws = new Workspace();
  ws.write('logs/a.json.gz', recordsFile(records(50, 7)));
  db = ws.path('case.duckdb');
  expect(cli(['ingest', ws.path('logs'), '--db', db]).code).toBe(0);
  expect(cli(['detect', '--db', db]).code).toBe(0);
});
afterAll(() => ws.dispose());

const sizeOf = (path: string) => statSync(path).size;

describe('--out never turns against the user', () => {
  it.each(['timeline', 'remediate'])('%s refuses to write over the store it reads, and the store stays whole', (command) => {
    const before = readFileSync(db);
    const result = cli([command, '--db', db, '--out', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out .*case\.duckdb is the store being read; name another file/);
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(cli(['stats', '--db', db]).code).toBe(0);
  });

  it('refuses another store as --out, and the store’s write-ahead log', () => {
    const other = ws.path('other.duckdb');
    expect(cli(['ingest', ws.path('logs'), '--db', other]).code).toBe(0);
    const result = cli(['timeline', '--db', db, '--out', other]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a trailhound store; name another file/);
    expect(isStoreFile(other)).toBe(true);
    const wal = cli(['timeline', '--db', db, '--out', `${db}.wal`]);
    expect(wal.code).toBe(2);
    expect(wal.stderr).toMatch(/is the store being read/);
  });

  it('does not write through a symbolic link, not even one to /dev/stdout', () => {
    const target = ws.path('precious.txt');
    writeFileSync(target, 'keep me');
    const link = ws.path('report.md');
    symlinkSync(target, link);
    const result = cli(['timeline', '--db', db, '--out', link]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a symbolic link; trailhound does not write through links/);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    const stdout = cli(['timeline', '--db', db, '--out', '/dev/stdout']);
    expect(stdout.code).toBe(2);
    expect(stdout.stderr).toMatch(/leave --out off to write to stdout/);
  });

  it('refuses a device, a FIFO or a folder as --out instead of hanging or writing into it', () => {
    const fifo = ws.path('pipe');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(ws.path('folder'));
    for (const out of ['/dev/null', fifo, ws.path('folder')]) {
      const result = cli(['remediate', '--db', db, '--out', out]);
      expect(result.code, out).toBe(2);
      expect(result.stderr, out).toMatch(/is not a regular file \(a folder, device, FIFO or socket\)/);
    }
  });

  it('writes a report whole, over an earlier one, and leaves no partial file behind', () => {
    const out = ws.path('timeline.md');
    writeFileSync(out, 'old');
    const result = cli(['timeline', '--db', db, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^# /);
    expect(readdirSync(ws.path('.')).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it.skipIf(!existsSync('/dev/full'))('a full disk behind stdout (/dev/full) is one line and exit 2, not a stack', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [BIN, 'timeline', '--db', db], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(result.status).toBe(2);
      expect(result.stderr).toBe('trailhound: cannot write the output: the disk is full; the output is incomplete, free space or write elsewhere (--out)\n');
    } finally {
      closeSync(full);
    }
  });

  it('says which directory is missing instead of failing with a stack', () => {
    const result = cli(['remediate', '--db', db, '--out', ws.path('no/such/dir/plan.md')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^trailhound: cannot write .*plan\.md: no such directory; check the path\n$/);
  });
});

describe('--db never takes a file that is not a store', () => {
  it('ingest refuses evidence given as --db, and leaves it unchanged', () => {
    const evidence = ws.write('evidence.json.gz', recordsFile(records(3, 1)));
    const before = readFileSync(evidence);
    const result = cli(['ingest', ws.path('logs'), '--db', evidence]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/exists and is not a trailhound store \(no DuckDB header\); to ingest it, give it as an input/);
    expect(readFileSync(evidence).equals(before)).toBe(true);
  });

  it('refuses a folder as --db', () => {
    const result = cli(['stats', '--db', ws.path('logs')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/is not a file \(a folder or a device\)/);
  });

  it('demo never deletes a --db that is not a store', () => {
    const notes = ws.write('notes.txt', 'incident notes, do not lose');
    const result = cli(['demo', '--db', notes]);
    expect(result.code).toBe(4);
    expect(readFileSync(notes, 'utf8')).toBe('incident notes, do not lose');
    expect(sizeOf(notes)).toBeGreaterThan(0);
  });
});
