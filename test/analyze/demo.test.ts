import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import type { AnalyzeResult, LineageNode } from '../../src/analyze/types.js';
import { Store } from '../../src/store/store.js';
import { DEMO_FACTS } from '../../synth/scenario.js';
import { cli } from '../helpers/cli.js';
import { ingest } from '../helpers/store.js';
import { Workspace } from '../helpers/workspace.js';

const DEMO = join(import.meta.dirname, '..', '..', 'fixtures', 'demo');

function flatten(nodes: readonly LineageNode[]): LineageNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

describe('analyze on the demo scenario', () => {
  let store: Store;
  let result: AnalyzeResult;
  beforeAll(async () => {
    store = await Store.open(':memory:');
    await ingest(store, [DEMO]);
    result = await analyze(duckdbSource(store), { keys: [DEMO_FACTS.leakedKeyId], ips: [], principals: [], sessions: [] });
  });
  afterAll(() => store.close());

  it('answers what the leaked key did', () => {
    expect(result.eventCount).toBe(DEMO_FACTS.counts.byLeakedKey);
    expect(result.ips.map((i) => i.ip)).toContain(DEMO_FACTS.attackerIp);
    expect(result.ips.find((i) => i.ip === DEMO_FACTS.attackerIp)).toMatchObject({ count: DEMO_FACTS.counts.byLeakedKeyFromAttackerIps, first: DEMO_FACTS.firstAttackerEventTime });
    expect(result.userAgents.map((u) => u.userAgent)).toContain(DEMO_FACTS.hostileUserAgents[0]);
    const fresh = result.regions.filter((r) => r.newForAccount).map((r) => r.region).sort();
    expect(fresh).toEqual(DEMO_FACTS.regionsDiscovered.filter((r) => r !== 'eu-west-1' && r !== 'us-east-1'));
    expect(result.accessDeniedCount).toBeGreaterThan(0);
  });

  it('follows the minted session key, the created user and its key', () => {
    const nodes = flatten(result.lineage);
    const byId = (id: string) => nodes.find((n) => n.id === id);
    expect(byId(`session:${DEMO_FACTS.mintedKeyId}`)).toMatchObject({ kind: 'session-key', eventCount: DEMO_FACTS.counts.byMintedKey });
    const created = byId(`key:${DEMO_FACTS.createdKeyId}`)!;
    const user = byId(`user:${DEMO_FACTS.account}:${DEMO_FACTS.createdUser}`)!;
    expect(created.firstSeen).toBe(DEMO_FACTS.createdKeyFirstUseTime);
    expect(created.eventCount + user.eventCount).toBe(DEMO_FACTS.counts.byCreatedUser);
    expect(created.usability.status).toBe('usable');
    expect(result.derivedKeys.map((k) => k.accessKeyId).sort()).toEqual([DEMO_FACTS.createdKeyId, DEMO_FACTS.mintedKeyId].sort());
    expect(result.createdPrincipals.map((c) => `${c.kind} ${c.name}`)).toEqual([
      `user ${DEMO_FACTS.createdUser}`,
      `policy ${DEMO_FACTS.attachedPolicyArn}`,
      `access-key ${DEMO_FACTS.createdKeyId}`,
      `login-profile ${DEMO_FACTS.createdUser}`,
    ]);
    expect(result.events).toHaveLength(DEMO_FACTS.counts.byLeakedKey + DEMO_FACTS.counts.byMintedKey + DEMO_FACTS.counts.byCreatedUser);
  });

  it('sums up the blast radius and states the logging gap in coverage', () => {
    const b = result.blastRadius;
    const gpuRegions = b.cost.launches.filter((l) => DEMO_FACTS.instanceTypesLaunched.includes(l.instanceType as never));
    expect(new Set(gpuRegions.map((l) => l.region))).toEqual(new Set(DEMO_FACTS.regionsLaunched));
    expect(gpuRegions.reduce((sum, l) => sum + l.instances, 0)).toBe(DEMO_FACTS.instancesLaunched);
    expect(b.logging.map((c) => [c.action, c.id])).toEqual([['StopLogging', DEMO_FACTS.trailArn]]);
    expect(b.iam.map((c) => c.action)).toEqual(['CreateUser', 'AttachUserPolicy', 'CreateAccessKey', 'CreateLoginProfile']);
    expect(result.coverage.gaps).toContainEqual(
      expect.objectContaining({ kind: 'logging-stopped', from: DEMO_FACTS.stopLoggingTime, to: DEMO_FACTS.startLoggingTime }),
    );
    expect(result.coverage.events).toBe(DEMO_FACTS.counts.total);
  });
});

describe('trailhound analyze (the binary)', () => {
  const ws = new Workspace();
  const db = ws.path('demo.duckdb');
  beforeAll(() => {
    expect(cli(['ingest', DEMO, '--db', db, '--no-progress']).code).toBe(0);
  });
  afterAll(() => ws.dispose());

  it('prints JSON with the fields the ticket needs', () => {
    const run = cli(['analyze', '--db', db, '--key', DEMO_FACTS.leakedKeyId, '--format', 'json', '--max-events', '50']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    for (const field of ['pivot', 'firstSeen', 'lastSeen', 'eventCount', 'errorCount', 'ips', 'userAgents', 'regions', 'eventNames', 'lineage', 'derivedKeys', 'createdPrincipals', 'blastRadius', 'coverage', 'events']) {
      expect(json).toHaveProperty(field);
    }
    expect(json.events).toHaveLength(50);
    expect(json.eventsTruncated).toBe(true);
    expect(Object.keys(json.events[0]).sort()).toEqual(
      ['accessKeyId', 'account', 'credential', 'errorCode', 'eventId', 'eventName', 'eventSource', 'eventTime', 'principalArn', 'region', 'sourceIp', 'userAgent'].sort(),
    );
  });

  it('keeps hostile strings inert in text and Markdown', () => {
    const text = cli(['analyze', '--db', db, '--ip', DEMO_FACTS.attackerIp]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Credential lineage:');
    expect(text.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const md = cli(['analyze', '--db', db, '--key', DEMO_FACTS.leakedKeyId, '--format', 'md']);
    expect(md.code).toBe(0);
    expect(md.stdout).not.toContain('<script>');
    expect(md.stdout).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Every table row keeps its header's column count: no pipe from a log field splits a cell.
    const cells = (line: string) => line.split(/(?<!\\)\|/).length;
    let header: string | null = null;
    let rows = 0;
    for (const line of md.stdout.split('\n')) {
      if (!line.startsWith('|')) {
        header = null;
        continue;
      }
      if (header === null) header = line;
      else {
        expect(cells(line), line).toBe(cells(header));
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(20);
  });

  it('refuses a missing pivot or a bad one with a usage error', () => {
    expect(cli(['analyze', '--db', db]).code).toBe(2);
    const bad = cli(['analyze', '--db', db, '--ip', '10.0.0.0/99']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not an address or CIDR block/);
    expect(cli(['analyze', '--db', ws.path('none.duckdb'), '--key', DEMO_FACTS.leakedKeyId]).code).toBe(4);
  });

  it('says a pivot matched nothing and exits 5, never calling an unseen key usable', () => {
    const none = cli(['analyze', '--db', db, '--key', 'AKIAEXAMPLE0000000000']);
    expect(none.code).toBe(5);
    expect(none.stdout).toBe('');
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain('nothing in the evidence for key AKIAEXAMPLE0000000000');
    // With a value that matched, the answer is printed, and the command still fails.
    const some = cli(['analyze', '--db', db, '--key', DEMO_FACTS.leakedKeyId, '--key', 'AKIAEXAMPLE0000000000']);
    expect(some.code).toBe(5);
    expect(some.stdout).toContain('Not in the evidence: key AKIAEXAMPLE0000000000');
    expect(some.stdout).not.toMatch(/AKIAEXAMPLE0000000000[^\n]*USABLE/);
  });

  it('traces the minted session key back to the call that minted it', () => {
    const run = cli(['analyze', '--db', db, '--key', DEMO_FACTS.mintedKeyId, '--format', 'json']);
    expect(run.code).toBe(0);
    const root = JSON.parse(run.stdout).lineage[0];
    expect(root.origin).toMatchObject({ eventName: 'GetSessionToken', by: `key:${DEMO_FACTS.leakedKeyId}` });
    expect(root.usability.reason).not.toContain('expiry not in the record');
  });
});
