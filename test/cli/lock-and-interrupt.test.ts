import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { cli, cliStart, exited } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;

beforeAll(() => {
  ws = new Workspace();
  // Enough small batches that a kill lands between and inside commits.
  for (let f = 0; f < 120; f++) {
    const day = String(1 + (f % 5)).padStart(2, '0');
    ws.write(`corpus/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/${day}/f${f}.json.gz`, recordsFile(records(400, 1000 + f)));
  }
});
afterAll(() => ws.dispose());

async function eventCount(db: string): Promise<number> {
  const store = await Store.open(db, { readOnly: true });
  try {
    return (await store.one<{ n: number }>('select count(*) as n from events'))!.n;
  } finally {
    store.close();
  }
}

describe('store lock', () => {
  it('a second process gets a clear error while another holds the store', async () => {
    const db = ws.path('locked.duckdb');
    expect(cli(['ingest', ws.path('corpus/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01'), '--db', db]).code).toBe(0);
    const holder = spawn(process.execPath, ['-e', `import('@duckdb/node-api').then(async ({ DuckDBInstance }) => { await DuckDBInstance.create(${JSON.stringify(db)}); console.log('held'); setTimeout(() => {}, 60000); })`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => holder.stdout!.on('data', () => resolve()));
    try {
      const result = cli(['ingest', ws.path('corpus'), '--db', db]);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/^trailhound: another trailhound process holds .*locked\.duckdb \(process \d+\); close it/);
      expect(cli(['stats', '--db', db]).code).toBe(4);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('interrupted ingest', () => {
  let clean = 0;
  let cleanMs = 0;
  const partials: number[] = [];

  beforeAll(() => {
    const db = ws.path('clean.duckdb');
    const started = Date.now();
    const result = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    cleanMs = Date.now() - started;
    expect(result.code).toBe(0);
    clean = JSON.parse(result.stdout).eventsLoaded;
    expect(clean).toBe(120 * 400);
  });

  /** Starts an ingest and kills it with `signal` after `delayMs`; retries earlier (on a fresh store) while the run beats the kill. */
  async function interruptedRun(db: string, fraction: number, signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string }> {
    let delay = Math.max(200, cleanMs * fraction);
    for (let attempt = 0; attempt < 5; attempt++, delay /= 2) {
      rmSync(db, { force: true });
      rmSync(`${db}.wal`, { force: true });
      const child = cliStart(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1']);
      const done = exited(child);
      await new Promise((r) => setTimeout(r, delay));
      child.kill(signal);
      const result = await done;
      if (result.signal === signal || result.code === 130) return result;
    }
    throw new Error('the ingest always finished before it could be interrupted; make the corpus larger');
  }

  it.each([0.35, 0.6, 0.85])('kill -9 at %f of a run, then a re-run, ends with exactly the events of a clean run', async (fraction) => {
    const db = ws.path(`killed-${fraction}.duckdb`);
    await interruptedRun(db, fraction, 'SIGKILL');
    const partial = await eventCount(db).catch(() => 0);
    // A kill after the last commit legitimately leaves everything; the test after this one checks that some kill landed earlier.
    expect(partial).toBeLessThanOrEqual(clean);
    partials.push(partial);
    const again = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    expect(again.code).toBe(0);
    expect(await eventCount(db)).toBe(clean);
    const store = await Store.open(db, { readOnly: true });
    try {
      const runs = await store.all<{ status: string }>('select status from ingest_runs order by started_at');
      expect(runs).toHaveLength(2);
      expect(partial === clean ? ['interrupted', 'completed'] : ['interrupted']).toContain(runs[0]!.status);
      expect(runs[1]!.status).toBe('completed');
    } finally {
      store.close();
    }
  });

  it('at least one kill landed before the last batch was committed', () => {
    expect(partials).toHaveLength(3);
    expect(partials.some((p) => p < clean)).toBe(true);
  });

  it('Ctrl-C stops after the current batch, says how to finish, and exits 130', async () => {
    const db = ws.path('sigint.duckdb');
    const { code, stdout } = await interruptedRun(db, 0.4, 'SIGINT');
    expect(code).toBe(130);
    expect(stdout).toMatch(/^Interrupted: loaded/);
    expect(stdout).toContain('Run the same command again to finish');
    const again = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    expect(again.code).toBe(0);
    expect(await eventCount(db)).toBe(clean);
  });
});
