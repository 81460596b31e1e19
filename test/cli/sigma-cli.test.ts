import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { makeCall } from '../../synth/records.js';
import { cli } from '../helpers/cli.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'sigma');
const TRAIL_RULE = 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0001';
const KEY_RULE = 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0002';
const ACL_RULE = 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0003';

describe('trailhound detect --sigma', () => {
  const ws = new Workspace();
  let db: string;
  beforeAll(async () => {
    db = ws.path('case.duckdb');
    const store = await Store.open(db);
    const records = [
      makeCall('StopLogging', 'cloudtrail.amazonaws.com', { eventTime: '2026-03-02T10:00:00Z', requestParameters: { name: 'main' } }),
      makeCall('CreateAccessKey', 'iam.amazonaws.com', { eventTime: '2026-03-02T10:01:00Z', requestParameters: { userName: 'backdoor' } }),
      makeCall('PutBucketAcl', 's3.amazonaws.com', { eventTime: '2026-03-02T10:02:00Z', requestParameters: { bucketName: 'b', 'x-amz-acl': 'public-read' } }),
      makeCall('DescribeTrails', 'cloudtrail.amazonaws.com', { eventTime: '2026-03-02T10:03:00Z' }),
    ];
    await ingest(store, [ws.write('events.jsonl', jsonLines(records))]);
    store.close();
  });
  afterAll(() => ws.dispose());

  it('runs the rules alone with --no-builtin, reports the untranslated ones in the JSON and on stderr', () => {
    const run = cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'rules'), join(FIXTURES, 'broken'), '--no-builtin', '--format', 'json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.findings.map((f: { detection: string }) => f.detection)).toEqual([TRAIL_RULE, KEY_RULE, ACL_RULE]);
    expect(out.findings[2]).toMatchObject({ severity: 'critical', eventName: 'PutBucketAcl', resource: 'b', summary: 'PutBucketAcl: Public ACL or known bad address' });
    expect(out.sigma.translated).toBe(3);
    expect(out.sigma.untranslated.map((u: { path: string }) => u.path.slice(FIXTURES.length + 1)).sort()).toEqual([
      'broken/bad_yaml.yml',
      'broken/correlation.yml',
      'broken/duplicate_id.yml',
      'broken/expand_modifier.yml',
      'broken/unknown_identifier.yml',
      'broken/windows_rule.yml',
    ]);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('trailhound: Sigma rule '))).toHaveLength(6);
    expect(run.stderr).toMatch(/bad_yaml\.yml not run: not valid YAML/);
  });

  it('adds the rules to the built-in detections; --only and --min-severity apply to them', () => {
    const all = JSON.parse(cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'rules'), '--format', 'json']).stdout);
    const detections = new Set(all.findings.map((f: { detection: string }) => f.detection));
    expect(detections.has(TRAIL_RULE) && detections.has('cloudtrail_logging_stopped')).toBe(true);
    const only = JSON.parse(cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'rules'), '--only', TRAIL_RULE, '--format', 'json']).stdout);
    expect(only.findings.map((f: { detection: string }) => f.detection)).toEqual([TRAIL_RULE]);
    const high = JSON.parse(cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'rules'), '--no-builtin', '--min-severity', 'high', '--format', 'json']).stdout);
    expect(high.findings.map((f: { detection: string }) => f.detection)).toEqual([TRAIL_RULE, ACL_RULE]);
    expect(cli(['detect', '--db', db, '--no-builtin']).code).toBe(2);
  });

  it('puts Sigma findings in the timeline like any other', () => {
    cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'rules'), '--no-builtin']);
    const timeline = cli(['timeline', '--db', db, '--format', 'jsonl']);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toContain(ACL_RULE);
  });

  it('detections --sigma lists each rule and whether it runs', () => {
    const list = JSON.parse(cli(['detections', '--sigma', join(FIXTURES, 'rules'), join(FIXTURES, 'broken', 'windows_rule.yml'), '--format', 'json']).stdout) as Array<Record<string, unknown>>;
    expect(list.filter((d) => String(d['id']).startsWith('sigma:')).map((d) => [d['id'], d['runs'] ?? true])).toEqual([
      [TRAIL_RULE, true],
      [KEY_RULE, true],
      [ACL_RULE, true],
      ['sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0005', false],
    ]);
    const table = cli(['detections', '--sigma', join(FIXTURES, 'broken', 'windows_rule.yml')]);
    expect(table.stdout).toMatch(/sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0005 .*not run: logsource is product "windows"/);
  });

  it('runs a correlation rule over the rules it names, which then run only inside it', () => {
    const correlation = 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0012';
    const run = cli(['detect', '--db', db, '--sigma', join(FIXTURES, 'correlation'), '--no-builtin', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.findings.map((f: { detection: string; severity: string; eventName: string }) => [f.detection, f.severity, f.eventName])).toEqual([[correlation, 'critical', 'CreateAccessKey']]);
    expect(out.findings[0].eventIds).toHaveLength(2);
    expect(out.sigma).toMatchObject({ translated: 1, untranslated: [], correlated: [{ id: '0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0010', by: correlation }, { id: '0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0011', by: correlation }] });
    const list = JSON.parse(cli(['detections', '--sigma', join(FIXTURES, 'correlation'), '--format', 'json']).stdout) as Array<Record<string, unknown>>;
    expect(list.filter((d) => String(d['id']).startsWith('sigma:')).map((d) => [d['id'], d['runs'] ?? true])).toEqual([
      [correlation, true],
      ['sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0010', false],
      ['sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0011', false],
    ]);
    expect(cli(['detections', '--sigma', join(FIXTURES, 'correlation')]).stdout).toMatch(/sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0010 .*runs only inside the correlation sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0012/);
  });
});
