import { describe, expect, it } from 'vitest';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { runDetections } from '../../src/detect/runner.js';
import { verifyEvidence } from '../../src/verify/verify.js';
import { planFromStore } from '../../src/report/from-store.js';
import type { Store } from '../../src/store/store.js';
import { iamUserIdentity, makeRecord } from '../../synth/records.js';
import { Random } from '../../synth/random.js';
import { ingest, sandbox } from '../helpers/store.js';
import type { Workspace } from '../helpers/workspace.js';

let ws: Workspace;
let store: Store;
sandbox((w, s) => {
  ws = w;
  store = s;
});

describe('a record with a repeated JSON key is read the same way by SQL and JavaScript (first key wins)', () => {
  it('detect and remediate name the same user', async () => {
    const identity = iamUserIdentity({ userName: 'leaky', accessKeyId: 'AKIAQ3EGRV7XEXAMPLE1', account: '111122223333' });
    const record = makeRecord('CreateUser', { eventTime: '2026-03-02T10:00:00Z', userIdentity: identity, recipientAccountId: '111122223333', requestParameters: { userName: 'PLACEHOLDER' } }, new Random(1));
    // JSON.stringify cannot write a repeated key: splice it into the text.
    const line = JSON.stringify(record).replaceAll('"userName":"PLACEHOLDER"', '"userName":"innocent","userName":"backdoor"').replaceAll('PLACEHOLDER', 'innocent');
    expect(line).toContain('"userName":"innocent","userName":"backdoor"');
    await ingest(store, [ws.write('dup.jsonl', `${line}\n`)]);
    const detected = await runDetections(store, shippedCatalog().filter((d) => d.id === 'iam_user_created'), { sensitive: shippedSensitiveEvents() });
    expect(detected.findings.map((f) => f.resource)).toEqual(['innocent']);
    const plan = await planFromStore(store, { generatedAt: new Date('2026-03-03T00:00:00Z') });
    const users = plan.steps.flatMap((s) => s.actions).filter((a) => a.kind === 'delete-user');
    expect(users).toHaveLength(1);
    expect(users[0]!.command).toContain('--user-name=innocent');
    expect(JSON.stringify(plan)).not.toContain('backdoor');
  });

  it('verify lists the record in record_issues and notes it, keeping the event', async () => {
    const identity = iamUserIdentity({ userName: 'leaky', accessKeyId: 'AKIAQ3EGRV7XEXAMPLE1', account: '111122223333' });
    const plain = makeRecord('CreateUser', { eventTime: '2026-03-02T10:00:00Z', userIdentity: identity, recipientAccountId: '111122223333', requestParameters: { userName: 'fine' } }, new Random(2));
    const twice = makeRecord('CreateUser', { eventTime: '2026-03-02T11:00:00Z', userIdentity: identity, recipientAccountId: '111122223333', requestParameters: { userName: 'PLACEHOLDER' } }, new Random(3));
    const forged = JSON.stringify(twice)
      .replace('"userName":"PLACEHOLDER"', '"userName":"innocent","userName":"backdoor"')
      .replace('"eventName":"CreateUser"', '"eventName":"CreateUser","eventName":"GetUser"');
    const path = ws.write('dup2.json', `{"Records":[${JSON.stringify(plain)},${forged}]}`);
    const summary = await ingest(store, [path]);
    expect(summary.eventsLoaded).toBe(2);
    const report = await verifyEvidence({ store });
    expect(report.repeatedKeys).toBe(2);
    expect(report.notes).toContainEqual(expect.stringMatching(/^2 objects of stored events repeat a JSON key: trailhound reads the first/));
    // A second verify lists them afresh, not twice.
    expect((await verifyEvidence({ store })).repeatedKeys).toBe(2);
    expect(await store.all(`select 1 from events`)).toHaveLength(2);
    const issues = await store.all<{ record_index: number; detail: string }>(`select record_index, detail from record_issues where kind = 'repeated-key' order by detail`);
    expect(issues).toEqual([
      { record_index: 1, detail: 'the key "eventName" appears more than once in $; trailhound reads the first, other tools may read another' },
      { record_index: 1, detail: 'the key "userName" appears more than once in $.requestParameters; trailhound reads the first, other tools may read another' },
    ]);
  });
});
