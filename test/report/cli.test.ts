import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { BIN, cli } from '../helpers/cli.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
let db: string;

beforeAll(() => {
  expect(existsSync(BIN), 'run `npm run build` first (npm test does)').toBe(true);
  ws = new Workspace();
  db = ws.path('demo.duckdb');
  const demo = cli(['demo', '--db', db]);
  expect(demo.code).toBe(0);
  expect(demo.stdout).toContain(`Timeline and remediation plan: ${ws.path('demo.html')}`);
});
afterAll(() => ws.dispose());

describe('trailhound timeline and remediate (built binary)', () => {
  it('demo writes the HTML timeline beside the store', () => {
    const html = readFileSync(ws.path('demo.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain(DEMO_FACTS.leakedKeyId);
  });

  it('writes the Markdown timeline of the whole store to stdout', () => {
    const result = cli(['timeline', '--db', db, '--generated-at', '2026-03-06T12:00:00Z', '--limit', '10']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^# Incident timeline\n/);
    expect(result.stdout).toContain('Generated 2026-03-06T12:00:00Z');
    expect(result.stdout).toMatch(/more rows of the alerts' findings and events not shown \(\d+ in all\): they exceed the limit of 10 \(`--limit`\)/);
    expect(result.stdout).toContain('## Remediation checklist');
  });

  it('scopes the timeline to a key and writes each format to --out', () => {
    for (const format of ['md', 'csv', 'jsonl', 'timesketch', 'html']) {
      const out = ws.path(`timeline.${format}`);
      const result = cli(['timeline', '--db', db, '--key', DEMO_FACTS.createdKeyId, '--format', format, '--out', out, '--generated-at', '2026-03-06T12:00:00Z']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('');
      expect(readFileSync(out, 'utf8')).toContain(DEMO_FACTS.createdKeyId);
    }
    const lines = readFileSync(ws.path('timeline.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { accessKeyId: string | null; kind: string });
    expect(lines.filter((l) => l.kind === 'event').every((l) => l.accessKeyId === DEMO_FACTS.createdKeyId || l.accessKeyId?.startsWith('ASIA'))).toBe(true);
    expect(readFileSync(ws.path('timeline.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('writes the plan as Markdown, JSON and a commented script', () => {
    const md = cli(['remediate', '--db', db, '--contained-at', '2026-03-06T12:00:00Z']);
    expect(md.code).toBe(0);
    // The demo's account snapshot shows the leaked key deactivated: checked, with the snapshot that shows it.
    expect(md.stdout).toContain('- [x] **deactivate-access-key** AKIAQ3EGRV7XCIDEPLOY');
    expect(md.stdout).toMatch(/Now: done, snapshot 20260306T090000Z-demo01 \(2026-03-06T09:00:00.000Z\): access key AKIAQ3EGRV7XCIDEPLOY is Inactive/);
    const json = cli(['remediate', '--db', db, '--format', 'json', '--contained-at', '2026-03-06T12:00:00Z']);
    const plan = JSON.parse(json.stdout) as { steps: Array<{ actions: Array<{ kind: string; target: string; region: string | null; reason: string; evidence: string[]; command: string | null }> }> };
    const all = plan.steps.flatMap((s) => s.actions);
    expect(all.find((a) => a.kind === 'deny-sessions-issued-before')?.command).toContain('"aws:TokenIssueTime":"2026-03-06T12:00:00Z"');
    for (const a of all) expect(Object.keys(a)).toEqual(expect.arrayContaining(['kind', 'target', 'region', 'reason', 'evidence', 'command']));
    const sh = cli(['remediate', '--db', db, '--format', 'sh', '--out', ws.path('plan.sh')]);
    expect(sh.code).toBe(0);
    expect(readFileSync(ws.path('plan.sh'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual(['set -eu']);
  });

  it('refuses bad options and a store without findings with one line that says what to do', () => {
    const bad = cli(['timeline', '--db', db, '--min-severity', 'urgent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^trailhound: --min-severity takes one of/);
    const fresh = ws.path('fresh.duckdb');
    ws.write('logs/a.json', recordsFile(records(3)));
    expect(cli(['ingest', ws.path('logs'), '--db', fresh]).code).toBe(0);
    const none = cli(['remediate', '--db', fresh]);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain('run "trailhound detect');
    const unwritable = cli(['timeline', '--db', db, '--out', ws.path('no', 'such', 'dir', 'x.md')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot write .*x\.md: no such directory; check the path/);
    expect(cli(['remediate', '--db', ws.path('missing.duckdb')]).code).toBe(4);
  });
});
