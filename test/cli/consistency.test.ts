import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProfile, profileNames } from '../../src/sources/aws.js';
import { cli } from '../helpers/cli.js';
import { Workspace } from '../helpers/workspace.js';

/** What a responder meets across commands: one set of format names, and AWS set-up errors that say what is wrong. */
describe('format names, the same in every command', () => {
  let ws: Workspace;
  let db: string;
  beforeAll(() => {
    ws = new Workspace();
    db = ws.path('demo.duckdb');
    expect(cli(['demo', '--db', db]).code).toBe(0);
  });
  afterAll(() => ws.dispose());

  it.each([
    ['stats', 'text'],
    ['stats', 'table'],
    ['stats', 'json'],
    ['detections', 'text'],
    ['detect', 'text'],
    ['timeline', 'json'],
    ['analyze', 'text'],
  ])('%s --format %s', (command, format) => {
    const args = [command, ...(command === 'detections' ? [] : ['--db', db]), ...(command === 'analyze' ? ['--key', 'AKIAQ3EGRV7XCIDEPLOY'] : []), '--format', format];
    const run = cli(args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    if (format === 'json') expect(() => JSON.parse(run.stdout)).not.toThrow();
    else expect(run.stdout.length).toBeGreaterThan(20);
  });

  it('text and table print the same', () => {
    expect(cli(['stats', '--db', db, '--format', 'table']).stdout).toBe(cli(['stats', '--db', db, '--format', 'text']).stdout);
  });

  it('timeline --format json holds the summary, alerts, entries and plan', () => {
    const doc = JSON.parse(cli(['timeline', '--db', db, '--format', 'json']).stdout) as { summary: string[]; alerts: unknown[]; entries: unknown[]; plan: { steps: unknown[] } };
    expect(doc.summary.length).toBeGreaterThan(2);
    expect(doc.alerts.length).toBeGreaterThan(0);
    expect(doc.entries.length).toBeGreaterThan(0);
    expect(doc.plan.steps).toHaveLength(7);
  });

  it('a format a command cannot write is refused with the ones it can', () => {
    const run = cli(['stats', '--db', db, '--format', 'md']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Allowed choices are text, json/);
  });

  it('counts agree with their nouns', () => {
    const out = cli(['stats', '--db', db]).stdout;
    expect(out).toMatch(/; 1 ingest run$/m);
  });
});

describe('AWS set-up errors', () => {
  it('reads the profile names of the shared files', () => {
    expect(profileNames('[default]\nregion = x\n[profile ir-team]\n[ prod ]\n# [not-a-section]\n')).toEqual(['default', 'ir-team', 'prod']);
  });

  it('names a profile that is not in the shared files, and the variable it came from', () => {
    const ws = new Workspace();
    try {
      const env = { HOME: ws.root, AWS_PROFILE: 'ir-team' };
      expect(() => checkProfile({}, env)).toThrow(/AWS profile "ir-team" \(from AWS_PROFILE\) is not in .*config or .*credentials/);
      ws.write('.aws/config', '[profile ir-team]\nregion = eu-west-1\n');
      expect(() => checkProfile({}, env)).not.toThrow();
      expect(() => checkProfile({ profile: 'other' }, env)).toThrow(/"other" \(from --profile\)/);
    } finally {
      ws.dispose();
    }
  });

  it('ingest with a missing profile says so, exits 2 and leaves no empty store behind', () => {
    const ws = new Workspace();
    try {
      const db = ws.path('case.duckdb');
      const run = cli(['ingest', 's3://example-trail-bucket', '--db', db, '--endpoint-url', 'http://127.0.0.1:9'], { HOME: ws.root, AWS_PROFILE: 'nonexistent', AWS_CONFIG_FILE: ws.path('none'), AWS_SHARED_CREDENTIALS_FILE: ws.path('none') });
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toMatch(/^trailhound: AWS profile "nonexistent" \(from AWS_PROFILE\) is not in /);
      expect(existsSync(db)).toBe(false);
    } finally {
      ws.dispose();
    }
  });

  it('an ingest that finds no credentials leaves no empty store, and one that existed stays', () => {
    const ws = new Workspace();
    try {
      const env = { HOME: ws.root, AWS_PROFILE: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_CONFIG_FILE: ws.path('none'), AWS_SHARED_CREDENTIALS_FILE: ws.path('none'), AWS_EC2_METADATA_DISABLED: 'true', AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '', AWS_WEB_IDENTITY_TOKEN_FILE: '' };
      const db = ws.path('case.duckdb');
      const run = cli(['ingest', 's3://example-trail-bucket', '--db', db, '--endpoint-url', 'http://127.0.0.1:9'], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no AWS credentials found/);
      expect(existsSync(db)).toBe(false);
      expect(cli(['demo', '--db', db]).code).toBe(0);
      expect(cli(['ingest', 's3://example-trail-bucket', '--db', db, '--endpoint-url', 'http://127.0.0.1:9'], env).code).toBe(2);
      expect(existsSync(db)).toBe(true);
    } finally {
      ws.dispose();
    }
  });
});
