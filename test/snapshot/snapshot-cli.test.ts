import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_CALLS } from '../../src/snapshot/calls.js';
import { Store } from '../../src/store/store.js';
import { makeRecord } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { FakeAccount } from '../fakes/fake-account.js';
import { FAKE_AWS_ENV } from '../fakes/http.js';
import { cli, cliStart, exited } from '../helpers/cli.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const fake = new FakeAccount();
const ws = new Workspace();
let endpoint = '';
beforeAll(async () => {
  endpoint = await fake.start();
});
afterAll(async () => {
  await fake.stop();
  ws.dispose();
});

/** Runs the CLI in a child while the fake answers in this process. */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cliStart(args, { ...FAKE_AWS_ENV });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const { code, stdout } = await exited(child);
  return { code, stdout, stderr };
}

/** The leaked key of the fake account creates a user with a key and launches in sa-east-1. */
function evidence(): string {
  const rng = new Random('snapshot-cli');
  const who = { userIdentity: { type: 'IAMUser', principalId: 'AIDADEPLOY', arn: 'arn:aws:iam::111122223333:user/deploy', accountId: '111122223333', accessKeyId: 'AKIAQ3EGRV7XCIDEPLOY', userName: 'deploy' }, sourceIPAddress: '203.0.113.77' };
  const records = [
    makeRecord('CreateUser', { ...who, eventTime: '2026-03-02T11:05:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { user: { userName: 'backdoor', arn: 'arn:aws:iam::111122223333:user/backdoor' } } } as never, rng),
    makeRecord('CreateAccessKey', { ...who, eventTime: '2026-03-02T11:06:00Z', requestParameters: { userName: 'backdoor' }, responseElements: { accessKey: { accessKeyId: 'AKIABACKDOOR0000001X', userName: 'backdoor', status: 'Active' } } } as never, rng),
    makeRecord('RunInstances', { ...who, eventTime: '2026-03-02T11:10:00Z', awsRegion: 'sa-east-1', requestParameters: { instanceType: 'p3.16xlarge' }, responseElements: { instancesSet: { items: [{ instanceId: 'i-0123456789abcdef0' }, { instanceId: 'i-0123456789abcdef1' }] } } } as never, rng),
  ];
  return ws.write('trail.jsonl', jsonLines(records));
}

describe('trailhound snapshot, end to end', () => {
  it('takes a snapshot into the store, writes the document, and the plan says what is still open', async () => {
    const db = join(ws.root, 'case.duckdb');
    const doc = join(ws.root, 'snapshot.json');
    expect(cli(['ingest', evidence(), '--db', db]).code).toBe(0);
    expect(cli(['detect', '--db', db]).code).toBe(0);
    const before = fake.calls.length;
    const taken = await run(['snapshot', '--db', db, '--out', doc, '--endpoint-url', endpoint, '--region', 'us-east-1', 'sa-east-1', 'me-central-1']);
    expect(taken.stderr).toMatch(/snapshot: sa-east-1 ec2: 9 resources \(\d+ ms\)/);
    expect(taken.code).toBe(0);
    expect(taken.stdout).toMatch(/snapshot \S+ of account 111122223333 by arn:aws:iam::111122223333:user\/responder: \d+ resources in 3 regions read/);
    expect(taken.stdout).toMatch(/AWS has quarantined.*\n\s+user deploy: AWSCompromisedKeyQuarantineV2/);
    // Read-only: every call the fake saw is in the README's list.
    expect(fake.calls.slice(before).map((c) => c.call).filter((c) => !(SNAPSHOT_CALLS as readonly string[]).includes(c))).toEqual([]);

    const listed = JSON.parse(cli(['snapshot', '--list', '--db', db, '--format', 'json']).stdout) as Array<{ id: string; source: string; resources: number }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]!.source).toBe('aws');
    const written = JSON.parse(readFileSync(doc, 'utf8')) as { id: string; format: string };
    expect(written).toMatchObject({ format: 'trailhound-snapshot', id: listed[0]!.id });

    const plan = JSON.parse(cli(['remediate', '--db', db, '--format', 'json']).stdout) as { snapshot: { id: string }; steps: Array<{ actions: Array<{ kind: string; target: string; state: string; stateEvidence: string }> }> };
    expect(plan.snapshot.id).toBe(listed[0]!.id);
    const actions = plan.steps.flatMap((s) => s.actions);
    const find = (kind: string, target: string) => actions.find((a) => a.kind === kind && a.target.includes(target));
    expect(find('deactivate-access-key', 'AKIABACKDOOR0000001X')?.state).toBe('open');
    expect(find('delete-user', 'backdoor')?.state).toBe('open');
    // One of the two instances is terminated, the other still runs.
    expect(find('terminate-instances', 'i-0123456789abcdef0')).toMatchObject({ state: 'open', stateEvidence: expect.stringMatching(/i-0123456789abcdef0 \(running\)/) });
    expect(find('terminate-instances', 'i-0123456789abcdef0')!.stateEvidence).not.toMatch(/abcdef1/);
    const verify = cli(['remediate', '--db', db, '--verify']);
    expect(verify.code).toBe(3);
    expect(verify.stderr).toMatch(/\d+ actions still open in snapshot/);

    // analyze: what the key created that is still there, and what no event explains.
    const quick = JSON.parse(cli(['analyze', '--db', db, '--key', 'AKIAQ3EGRV7XCIDEPLOY', '--format', 'json']).stdout) as { now: { created: unknown[]; unexplainedTotal: number | null } };
    expect(quick.now.created.length).toBeGreaterThan(0);
    expect(quick.now.unexplainedTotal).toBeNull();
    const analyzed = JSON.parse(cli(['analyze', '--db', db, '--key', 'AKIAQ3EGRV7XCIDEPLOY', '--format', 'json', '--unexplained']).stdout) as { now: { created: Array<{ id: string; now: string }>; unexplained: Array<{ id: string; why: string }> } };
    expect(analyzed.now.created).toContainEqual(expect.objectContaining({ id: 'backdoor', now: 'exists' }));
    expect(analyzed.now.created).toContainEqual(expect.objectContaining({ id: 'i-0123456789abcdef1', now: 'gone' }));
    expect(analyzed.now.unexplained).toContainEqual(expect.objectContaining({ id: 'i-0fedcba9876543210', why: expect.stringMatching(/before the evidence starts \([^)]+\); in me-central-1, a region with no events/) }));
    expect(analyzed.now.unexplained.map((u) => u.id)).not.toContain('backdoor');

    // detect: the quarantined user and the instance in the region the logs never show.
    const detected = cli(['detect', '--db', db, '--format', 'json']);
    const findings = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; severity: string; summary: string }> };
    expect(findings.findings).toContainEqual(expect.objectContaining({ detection: 'snapshot_quarantine_policy_attached', severity: 'high', summary: expect.stringMatching(/user deploy.*AKIAQ3EGRV7XCIDEPLOY Active/) }));
    expect(findings.findings).toContainEqual(expect.objectContaining({ detection: 'snapshot_resource_in_unused_region', severity: 'high', summary: expect.stringMatching(/i-0fedcba9876543210 \(running\)/) }));
  });

  it('loads a snapshot document on another machine, once, and says why a bad one is refused', async () => {
    const source = join(ws.root, 'taken.duckdb');
    const doc = join(ws.root, 'elsewhere.json');
    // --out without --db: only the document.
    const taken = await run(['snapshot', '--out', doc, '--endpoint-url', endpoint, '--region', 'us-east-1', '--no-progress']);
    expect(taken.code).toBe(0);
    expect(taken.stderr).toBe('');
    expect(taken.stdout).toMatch(/written to .*elsewhere\.json; load it with "trailhound ingest FILE"/);
    const db = join(ws.root, 'analyst.duckdb');
    const loaded = cli(['ingest', doc, '--db', db]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toMatch(/account snapshots 1/);
    const again = cli(['ingest', doc, '--db', db]);
    expect(again.stdout).toMatch(/already ingested 1/);
    const listed = JSON.parse(cli(['snapshot', '--list', '--db', db, '--format', 'json']).stdout) as Array<{ source: string; uri: string }>;
    expect(listed).toEqual([expect.objectContaining({ source: 'file', uri: expect.stringContaining('elsewhere.json') })]);
    const store = await Store.open(db, { readOnly: true });
    try {
      const [row] = await store.all<{ sha256: string }>('select sha256 from snapshots');
      expect(row!.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      store.close();
    }
    expect(source).toBeTruthy();

    // A hostile document: the wrong field is named, nothing of it is stored, the good file beside it loads.
    const bad = JSON.parse(readFileSync(doc, 'utf8')) as { id: string; resources: Array<Record<string, unknown>> };
    bad.id = 'x; drop table events';
    const badPath = ws.write('bad-snapshot.json', JSON.stringify(bad));
    const refused = cli(['ingest', badPath, evidence(), '--db', join(ws.root, 'other.duckdb')]);
    expect(refused.code).toBe(3);
    expect(refused.stdout + refused.stderr).toMatch(/bad-snapshot\.json: not a trailhound snapshot document: id: letters, digits and \.:_- only/);
    expect(refused.stdout).toMatch(/Loaded 3 events/);
  });

  it('--verify without a snapshot is a usage error, not a pass', () => {
    const db = join(ws.root, 'nosnap.duckdb');
    expect(cli(['ingest', evidence(), '--db', db]).code).toBe(0);
    expect(cli(['detect', '--db', db]).code).toBe(0);
    const verify = cli(['remediate', '--db', db, '--verify']);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/--verify needs an account snapshot/);
  });
});
