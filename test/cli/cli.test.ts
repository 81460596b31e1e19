import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let db: string;

beforeAll(() => {
  expect(existsSync(BIN), 'run `npm run build` first (npm test does)').toBe(true);
  ws = new Workspace();
  db = ws.path('case.duckdb');
  ws.write('logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/a.json.gz', recordsFile(records(6, 1, ['RunInstances', 'GetCallerIdentity'], { userAgent: '\u001b[2J=cmd|evil' })));
  ws.write('logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/b.json.gz', recordsFile(records(4, 2, ['DescribeInstances', 'RunInstances'], { awsRegion: 'eu-west-1' })));
});
afterAll(() => ws.dispose());

describe('trailhound (built binary)', () => {
  it('prints its version and help', () => {
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['ingest', 'verify', 'query', 'stats', 'detect', 'detections', 'analyze', 'timeline', 'remediate', 'athena', 'demo', 'mcp']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('exits 2 on a usage error', () => {
    const result = cli(['ingest']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing required argument/);
    expect(cli(['ingest', ws.path('logs'), '--db', db, '--since', 'yesterday-ish']).code).toBe(2);
  });

  it('ingests and prints the JSON summary with the documented fields', () => {
    const result = cli(['ingest', ws.path('logs'), '--db', db, '--format', 'json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      filesRead: 2,
      eventsLoaded: 10,
      duplicates: 0,
      skipped: [],
      accounts: ['111122223333'],
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(summary.firstEventTime).toBe('2026-03-02T10:00:00Z');
    expect(summary.lastEventTime).toBe('2026-03-02T10:05:00Z');
  });

  it('ingesting again adds nothing and says so', () => {
    const result = cli(['ingest', ws.path('logs'), '--db', db]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Loaded 0 events/);
    expect(result.stdout).toMatch(/already ingested 2/);
  });

  it('exits 3 and names the file when an input was skipped', () => {
    const bad = ws.write('bad/broken.json', '{"Records":[{"eventTime":');
    const result = cli(['ingest', bad, '--db', db]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`${bad}: malformed JSON`);
  });

  it('keeps a hostile file name on its own line of the skipped list', () => {
    const bad = ws.write('bad/x\nLoaded 0 events, nothing skipped\u001b[2K.json', '{"Records":[{"eventTime":');
    const result = cli(['ingest', bad, '--db', db]);
    expect(result.code).toBe(3);
    expect(result.stdout).not.toMatch(/^Loaded 0 events, nothing skipped/m);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).toContain('x\\x0aLoaded 0 events, nothing skipped\\x1b[2K.json: malformed JSON');
  });

  it('answers read-only SQL as a table, CSV and JSON, with hostile strings made harmless', () => {
    const sql = `select eventname, count(*) as n, any_value(useragent) as ua from events where awsregion = 'us-east-1' group by 1 order by 1`;
    const table = cli(['query', sql, '--db', db]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/GetCallerIdentity\s+3/);
    expect(table.stdout).not.toContain('\u001b');
    expect(table.stdout).toContain('\\x1b[2J=cmd|evil');
    const csv = cli(['query', sql, '--db', db, '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('eventname,n,ua');
    expect(csv.stdout).toContain('RunInstances,3,\u001b[2J=cmd|evil');
    const json = JSON.parse(cli(['query', sql, '--db', db, '--format', 'json']).stdout);
    expect(json).toEqual([
      { eventname: 'GetCallerIdentity', n: 3, ua: '\u001b[2J=cmd|evil' },
      { eventname: 'RunInstances', n: 3, ua: '\u001b[2J=cmd|evil' },
    ]);
  });

  it('refuses to write from query', () => {
    const result = cli(['query', 'delete from event_rows_0', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/read-only/);
    expect(JSON.parse(cli(['query', 'select count(*) as n from events', '--db', db, '--format', 'json']).stdout)).toEqual([{ n: 10 }]);
  });

  it('reports a bad query on one line', () => {
    const result = cli(['query', 'select nope from events', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^trailhound: query failed: Binder Error/);
  });

  it('prints stats by account, region, day and event source', () => {
    const text = cli(['stats', '--db', db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^10 events, 2026-03-02T10:00:00Z \.\. 2026-03-02T10:05:00Z/);
    for (const title of ['By account', 'By region', 'By day', 'By event source']) expect(text.stdout).toContain(title);
    const json = JSON.parse(cli(['stats', '--db', db, '--format', 'json']).stdout);
    expect(json.events).toBe(10);
    expect(json.byRegion).toEqual([
      { region: 'eu-west-1', events: 4, first: '2026-03-02T10:00:00Z', last: '2026-03-02T10:03:00Z' },
      { region: 'us-east-1', events: 6, first: '2026-03-02T10:00:00Z', last: '2026-03-02T10:05:00Z' },
    ]);
    expect(json.byDay).toEqual([{ day: '2026-03-02', events: 10, first: '2026-03-02T10:00:00Z', last: '2026-03-02T10:05:00Z' }]);
    // The keys, principals and addresses that acted, most active first.
    for (const title of ['Access keys (', 'Principals (', 'Source addresses (']) expect(text.stdout).toContain(title);
    expect(json.byKey.total).toBeGreaterThan(0);
    expect(Object.keys(json.byKey.rows[0]).sort()).toEqual(['access_key_id', 'events', 'first', 'ips', 'last', 'principal_arn', 'regions']);
    expect(json.byAddress.rows.reduce((n: number, r: { events: number }) => n + r.events, 0)).toBeLessThanOrEqual(10);
    expect(Object.keys(json.byPrincipal.rows[0]).sort()).toEqual(['events', 'first', 'ips', 'keys', 'last', 'principal_arn']);
  });

  it('takes the store from TRAILHOUND_DB', () => {
    const result = cli(['query', 'select count(*) as n from events', '--format', 'json'], { TRAILHOUND_DB: db });
    expect(JSON.parse(result.stdout)).toEqual([{ n: 10 }]);
  });

  it('exits 4 with what to do when the store does not exist', () => {
    const result = cli(['stats', '--db', ws.path('nowhere.duckdb')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no store at .*nowhere\.duckdb; run "trailhound ingest/);
  });

  it('runs the demo on the bundled scenario', () => {
    const demoDb = ws.path('demo.duckdb');
    const result = cli(['demo', '--db', demoDb]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Loaded 1,165 events from 466 log files/);
    expect(result.stdout).toContain('Long-term access keys seen');
    expect(result.stdout).toMatch(/critical\s+cloudtrail_logging_stopped/);
  });

  it('detect prints findings by time, stores them, and emits the documented JSON', () => {
    const demoDb = ws.path('demo.duckdb');
    const table = cli(['detect', '--db', demoDb, '--min-severity', 'critical']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n').filter((l) => /^2026-/.test(l)).map((l) => l.split(/\s+/)[2])).toEqual(['iam_admin_policy_attached', 'cloudtrail_logging_stopped']);
    const json = JSON.parse(cli(['detect', '--db', demoDb, '--format', 'json', '--only', 'ec2_large_instances_launched']).stdout);
    expect(json.matches).toBe(4);
    expect(json.findings.reduce((n: number, a: { count: number }) => n + a.count, 0)).toBe(4);
    expect(Object.keys(json.findings[0])).toEqual(
      expect.arrayContaining(['detection', 'title', 'severity', 'techniques', 'eventIds', 'eventTime', 'actor', 'accessKeyId', 'sourceIp', 'account', 'region', 'resource', 'summary', 'count', 'firstTime', 'lastTime']),
    );
    // Every run is stored whole, the --min-severity one included; the raw matches stay queryable by run.
    const stored = JSON.parse(cli(['query', 'select detect_run_id as run, count(*) as n from findings group by all order by n', '--db', demoDb, '--format', 'json']).stdout);
    expect(stored.map((r: { n: number }) => r.n)[0]).toBe(4);
    expect(stored.at(-1).n).toBeGreaterThan(2);
    expect(stored.some((r: { run: string }) => r.run === json.runId)).toBe(true);
    expect(cli(['detect', '--db', demoDb, '--only', 'no_such_detection']).code).toBe(2);
    expect(cli(['detect', '--db', demoDb, '--memory-limit', 'lots']).code).toBe(2);
    const capped = cli(['detect', '--db', demoDb, '--memory-limit', '256MB', '--format', 'json', '--only', 'iam_user_created']);
    expect(capped.code).toBe(0);
    expect(JSON.parse(capped.stdout).findings.length).toBeGreaterThan(0);
    // Coverage comes from the whole catalog even when one detection runs: the demo's sensitive calls all have their own.
    expect(JSON.parse(cli(['detect', '--db', demoDb, '--only', 'sensitive_api_called', '--format', 'json']).stdout).findings).toEqual([]);
  });

  it('refuses a memory limit, a depth or a span it cannot work with, in one line', () => {
    const demoDb = ws.path('demo.duckdb');
    const tiny = cli(['detect', '--db', demoDb, '--memory-limit', '1KB']);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toBe('trailhound: --memory-limit 1KB is too small for DuckDB to work in; give at least 64MB\n');
    const deep = cli(['analyze', '--db', demoDb, '--key', 'AKIAQ3EGRV7XCIDEPLOY', '--depth', '1000000']);
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(/--depth takes a whole number from 0 to 50/);
    const ancient = cli(['timeline', '--db', demoDb, '--since', '1000000000d']);
    expect(ancient.code).toBe(2);
    expect(ancient.stderr).toMatch(/^trailhound: the span "1000000000d" reaches before 1970/);
  });

  it('lists the detection catalog', () => {
    const list = JSON.parse(cli(['detections', '--format', 'json']).stdout);
    expect(list.map((d: { id: string }) => d.id)).toContain('iam_access_key_created');
    expect(list[0]).toHaveProperty('techniques');
  });
});
