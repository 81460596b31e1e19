import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../src/store/query.js';
import { QueryError } from '../../src/core/errors.js';
import { Store } from '../../src/store/store.js';
import { cli } from '../helpers/cli.js';
import { count, ingest } from '../helpers/store.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

// What `trailhound query` (and the MCP query tool, and Sigma rules) must never do: write a
// file, overwrite the store, read host files, attach or load anything, or run a second statement.
describe('query on a sealed store', () => {
  const ws = new Workspace();
  let db: string;
  let storeBytes: Buffer;
  beforeAll(async () => {
    db = ws.path('case.duckdb');
    const store = await Store.open(db);
    await ingest(store, [ws.write('in/a.json', recordsFile(records(12)))]);
    store.close();
    storeBytes = readFileSync(db);
  });
  afterAll(() => ws.dispose());

  // Either guard may refuse first: the statement type, or DuckDB's own file-access check at prepare time.
  const either = (kind: string) => new RegExp(`this one is ${kind}|disabled by configuration`);
  const attacks = (dir: string) => [
    [`copy (select 1) to '${db}'`, /only select statements \(this one is COPY\)/],
    [`copy (select 1) to '${dir}/out.csv'`, either('COPY')],
    [`export database '${dir}/dump'`, either('EXPORT')],
    [`select 1; copy (select 1) to '${dir}/second.csv'`, /holds 2 statements/],
    [`install httpfs`, either('LOAD')],
    [`load json`, either('LOAD')],
    [`attach '${dir}/other.duckdb'`, either('ATTACH')],
    [`set enable_external_access = true`, either('SET')],
    [`pragma enable_profiling`, /only select statements/],
    [`select * from read_csv('/etc/passwd')`, /disabled by configuration/],
    [`select * from glob('/etc/*')`, /disabled by configuration/],
    [`select * from read_blob('${ws.path('in/a.json')}')`, /disabled by configuration/],
    [`   `, /empty/],
  ] as const;

  it('refuses every statement that is not a select, and every file access, leaving the store as it was', async () => {
    const dir = ws.path('loot');
    const store = await Store.open(db, { readOnly: true });
    try {
      for (const [sql, reason] of attacks(dir)) {
        const error = await runQuery(store, sql).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, sql).toBeInstanceOf(QueryError);
        expect((error as Error).message, sql).toMatch(reason);
      }
      // The configuration is locked: nothing can turn file access back on.
      expect((await store.one<{ v: boolean }>(`select current_setting('enable_external_access') as v`))?.v).toBe(false);
      expect((await store.one<{ v: boolean }>(`select current_setting('autoinstall_known_extensions') as v`))?.v).toBe(false);
      expect(await count(store)).toBe(12);
    } finally {
      store.close();
    }
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(db).equals(storeBytes)).toBe(true);
  });

  it('runs selects, describe, show and explain', async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      for (const sql of ['select count(*) as n from events', 'from events limit 1', 'describe events', 'show tables', 'with x as (select 1 as a) select * from x', 'explain select 1']) {
        await expect(runQuery(store, sql), sql).resolves.toMatchObject({ truncated: false });
      }
    } finally {
      store.close();
    }
  });

  it('streams a huge result only up to the row cap', async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      const rss = process.memoryUsage().rss;
      const result = await runQuery(store, 'select range as i from range(30000000)', 1000);
      expect(result.rows).toHaveLength(1000);
      expect(result.rows[999]).toEqual({ i: 999 });
      expect(result.truncated).toBe(true);
      // 30M rows as JS objects would take gigabytes; the capped read stays far below that.
      expect(process.memoryUsage().rss - rss).toBeLessThan(400 * 1024 * 1024);
      expect((await runQuery(store, 'select 1 as a', 1)).truncated).toBe(false);
    } finally {
      store.close();
    }
  });

  it('a store opened for detect is sealed too: rule SQL cannot read files', async () => {
    const store = await Store.open(db, { sealed: true });
    try {
      await expect(store.all(`select * from read_csv('/etc/passwd')`)).rejects.toThrow(/disabled by configuration/);
      await expect(store.run(`set enable_external_access = true`)).rejects.toThrow(/locked/);
    } finally {
      store.close();
    }
  });

  it('through the binary: COPY over the store is refused with exit 2, --max-rows cuts with a note', () => {
    const before = statSync(db).mtimeMs;
    const copy = cli(['query', `copy (select 1) to '${db}'`, '--db', db]);
    expect(copy.code).toBe(2);
    expect(copy.stderr.trim().split('\n')).toHaveLength(1);
    expect(statSync(db).mtimeMs).toBe(before);
    const cut = cli(['query', 'select range as i from range(50)', '--db', db, '--format', 'jsonl', '--max-rows', '3']);
    expect(cut.code).toBe(0);
    expect(cut.stdout.trim().split('\n')).toHaveLength(3);
    expect(cut.stderr).toMatch(/more than 3 rows/);
  });
});
