import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { Store, defaultStorePath } from '../../src/store/store.js';
import { Workspace } from '../helpers/workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.dispose());

const ATHENA_COLUMNS = [
  'eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent',
  'errorcode', 'errormessage', 'requestparameters', 'responseelements', 'additionaleventdata', 'requestid', 'eventid',
  'resources', 'eventtype', 'apiversion', 'readonly', 'recipientaccountid', 'serviceeventdetails', 'sharedeventid',
  'vpcendpointid', 'eventcategory', 'tlsdetails', 'managementevent', 'sessioncredentialfromconsole',
];
const PIVOT_COLUMNS = ['access_key_id', 'principal_arn', 'principal_id', 'principal_account', 'user_name', 'session_issuer_arn', 'session_issuer_name', 'useridentity_type', 'invoked_by'];
const PROVENANCE_COLUMNS = ['eventkey', 'record', 'input_id', 'run_id', 'record_index'];

describe('store', () => {
  it('events has the Athena CloudTrail column names, the pivot columns and provenance', async () => {
    const store = await Store.open(':memory:');
    const columns = (await store.all<{ column_name: string; data_type: string }>(`select column_name, data_type from information_schema.columns where table_name = 'events'`));
    const names = columns.map((c) => c.column_name);
    for (const name of [...ATHENA_COLUMNS, ...PIVOT_COLUMNS, ...PROVENANCE_COLUMNS]) expect(names).toContain(name);
    const type = (name: string) => columns.find((c) => c.column_name === name)?.data_type;
    expect(type('eventtime')).toBe('TIMESTAMP WITH TIME ZONE');
    expect(type('useridentity')).toBe('JSON');
    expect(type('readonly')).toBe('BOOLEAN');
    store.close();
  });

  it('migrates a new file once and reopens it without migrating again', async () => {
    const path = ws.path('s.duckdb');
    (await Store.open(path)).close();
    const store = await Store.open(path);
    const versions = await store.all<{ version: number }>('select version from schema_version');
    expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    store.close();
  });

  it('refuses a store written by a newer trailhound', async () => {
    const path = ws.path('newer.duckdb');
    const store = await Store.open(path);
    await store.run(`insert into schema_version values (?, 'from the future', now())`, [SCHEMA_VERSION + 1]);
    store.close();
    await expect(Store.open(path)).rejects.toThrow(/newer than this trailhound understands/);
    await expect(Store.open(path, { readOnly: true })).rejects.toBeInstanceOf(StoreError);
  });

  it('refuses a file that is not a DuckDB store', async () => {
    const path = ws.write('notes.duckdb', 'these are my notes, not a database\n'.repeat(200));
    await expect(Store.open(path)).rejects.toThrow(/exists and is not a trailhound store \(no DuckDB header\)/);
  });

  it('marks runs left running by a killed process as interrupted', async () => {
    const path = ws.path('runs.duckdb');
    const store = await Store.open(path);
    await store.run(`insert into ingest_runs (run_id, started_at, status, source) values ('r1', now(), 'running', 'files')`);
    store.close();
    const reopened = await Store.open(path);
    expect(await reopened.all('select status from ingest_runs')).toEqual([{ status: 'interrupted' }]);
    reopened.close();
  });

  it('takes the default path from TRAILHOUND_DB', () => {
    expect(defaultStorePath({ TRAILHOUND_DB: '/cases/x.duckdb' })).toBe('/cases/x.duckdb');
    expect(defaultStorePath({})).toBe('trailhound.duckdb');
  });
});
