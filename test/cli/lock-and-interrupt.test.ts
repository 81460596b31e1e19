import { spawn } from 'node:child_process';
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

  beforeAll(() => {
    const db = ws.path('clean.duckdb');
    const started = Date.now();
    const result = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    cleanMs = Date.now() - started;
    expect(result.code).toBe(0);
    clean = JSON.parse(result.stdout).eventsLoaded;
    expect(clean).toBe(120 * 400);
  });

  it.each([0.35, 0.6, 0.85])('kill -9 at %f of a run, then a re-run, ends with exactly the events of a clean run', async (fraction) => {
    const db = ws.path(`killed-${fraction}.duckdb`);
    const child = cliStart(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1']);
    const done = exited(child);
    await new Promise((r) => setTimeout(r, Math.max(300, cleanMs * fraction)));
    const killed = child.kill('SIGKILL');
    const { signal } = await done;
    expect(killed && signal === 'SIGKILL', 'the ingest finished before the kill; make the corpus larger').toBe(true);
    const partial = await eventCount(db).catch(() => 0);
    expect(partial).toBeLessThan(clean);
    const again = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    expect(again.code).toBe(0);
    expect(await eventCount(db)).toBe(clean);
    const runs = await (async () => {
      const store = await Store.open(db, { readOnly: true });
      try {
        return await store.all<{ status: string }>('select status from ingest_runs order by started_at');
      } finally {
        store.close();
      }
    })();
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
  });

  it('Ctrl-C stops after the current batch, says how to finish, and exits 130', async () => {
    const db = ws.path('sigint.duckdb');
    const child = cliStart(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1']);
    const done = exited(child);
    await new Promise((r) => setTimeout(r, Math.max(300, cleanMs * 0.4)));
    child.kill('SIGINT');
    const { code, stdout } = await done;
    expect(code).toBe(130);
    expect(stdout).toMatch(/^Interrupted: loaded/);
    expect(stdout).toContain('Run the same command again to finish');
    const again = cli(['ingest', ws.path('corpus'), '--db', db, '--batch-mb', '1', '--format', 'json']);
    expect(again.code).toBe(0);
    expect(await eventCount(db)).toBe(clean);
  });
});
