import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { runDetections } from '../../src/detect/runner.js';
import { gatherEvidence, MAX_AUTO_PIVOTS, planOf } from '../../src/report/from-store.js';
import { Store } from '../../src/store/store.js';
import { iamUserIdentity, makeRecord } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { ingest } from '../helpers/store.js';
import { jsonLines, Workspace } from '../helpers/workspace.js';

describe('whole-store scope', () => {
  let ws: Workspace;
  let store: Store;
  const keys = Array.from({ length: MAX_AUTO_PIVOTS + 2 }, (_, i) => `AKIAEXAMPLEUSER0000${i}`);
  beforeAll(async () => {
    ws = new Workspace();
    const rng = new Random('scope-test');
    // Each user's key creates a key for another user (a high finding); the first one also attaches admin rights (critical).
    const records = keys.flatMap((key, i) => {
      const who = { userIdentity: iamUserIdentity({ account: '111122223333', userName: `user${i}`, accessKeyId: key }), sourceIPAddress: `198.51.100.${i + 1}`, recipientAccountId: '111122223333' };
      const at = (m: number) => new Date(Date.UTC(2026, 2, 4, 1, i * 10 + m)).toISOString().replace(/\.000Z$/, 'Z');
      return [
        makeRecord('CreateAccessKey', { ...who, eventTime: at(0), requestParameters: { userName: `other${i}` }, responseElements: { accessKey: { accessKeyId: `AKIAEXAMPLENEWKEY00${i}`, userName: `other${i}` } } }, rng),
        ...(i === keys.length - 1 ? [makeRecord('AttachUserPolicy', { ...who, eventTime: at(1), requestParameters: { userName: `other${i}`, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }, rng)] : []),
      ];
    });
    store = await Store.open(':memory:');
    await ingest(store, [ws.write('events.jsonl', jsonLines(records))]);
    await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
  });
  afterAll(() => {
    store.close();
    ws.dispose();
  });

  it(`follows the ${MAX_AUTO_PIVOTS} worst keys and names the others in the plan's caveats`, async () => {
    const evidence = await gatherEvidence(store);
    const followed = evidence.investigations[0]!.pivot.keys;
    expect(followed).toHaveLength(MAX_AUTO_PIVOTS);
    expect(followed).toContain(keys.at(-1));
    expect(evidence.notes).toHaveLength(1);
    expect(evidence.notes[0]).toMatch(/^2 more long-term key\(s\) in high or critical findings were not followed as pivots: .*; pass --key to follow them\.$/);
    const plan = planOf(evidence, new Date('2026-03-06T12:00:00Z'));
    expect(plan.caveats).toContain(evidence.notes[0]);
    // Every key in a high finding is still treated as exposed, followed or not, and every created key is deactivated.
    expect(plan.exposedKeys).toEqual([...keys].sort());
    const created = plan.steps.find((s) => s.id === 'attacker-principals')!.actions.filter((a) => a.kind === 'deactivate-access-key').map((a) => a.target);
    expect(created.sort()).toEqual(keys.map((_, i) => `AKIAEXAMPLENEWKEY00${i}`).sort());
  });
});
