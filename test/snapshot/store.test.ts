import { describe, expect, it } from 'vitest';
import { resource } from '../../src/snapshot/context.js';
import { parseSnapshotDocument } from '../../src/snapshot/document.js';
import { nowLines, nowMarkdown } from '../../src/snapshot/render.js';
import { listSnapshots, loadSnapshot, saveSnapshot } from '../../src/snapshot/store.js';
import { SNAPSHOT_FORMAT, type NowView, type SnapshotDocument } from '../../src/snapshot/types.js';
import { terminalSafe } from '../../src/report/text-safety.js';
import { memoryStore } from '../helpers/store.js';

function doc(id: string, takenAt: string, state: string, account = '111122223333'): SnapshotDocument {
  return {
    format: SNAPSHOT_FORMAT,
    version: 1,
    id,
    takenAt,
    finishedAt: takenAt,
    durationMs: 1000,
    account,
    callerArn: null,
    toolVersion: 'test',
    calls: 3,
    regions: [{ name: 'sa-east-1', optInStatus: 'opt-in-not-required', scanned: true }],
    resources: [resource({ kind: 'ec2:instance', region: 'sa-east-1', id: 'i-0123456789abcdef0', state, createdAt: '2026-03-02T11:10:00.000Z', tags: { Name: 'x' }, detail: { keyName: null } })],
    gaps: [{ service: 'lambda', region: 'sa-east-1', call: 'lambda:ListFunctions', reason: 'access denied' }],
    credentialReport: null,
  };
}

describe('snapshots in the store', () => {
  it('are kept over time, each once, and answer "was it gone at 14:00?"', async () => {
    const store = await memoryStore();
    try {
      expect(await loadSnapshot(store)).toBeNull();
      const morning = doc('20260306T090000Z-aaaaaa', '2026-03-06T09:00:00.000Z', 'running');
      const evening = doc('20260306T180000Z-bbbbbb', '2026-03-06T18:00:00.000Z', 'terminated');
      expect(await saveSnapshot(store, morning, { source: 'aws', uri: 'aws' }, null)).toBe(true);
      expect(await saveSnapshot(store, evening, { source: 'file', uri: 'evening.json' }, 'ab'.repeat(32))).toBe(true);
      expect(await saveSnapshot(store, evening, { source: 'file', uri: 'again.json' }, 'ab'.repeat(32))).toBe(false);
      expect((await listSnapshots(store)).map((s) => [s.id, s.source, s.resources, s.gaps])).toEqual([
        ['20260306T180000Z-bbbbbb', 'file', 1, 1],
        ['20260306T090000Z-aaaaaa', 'aws', 1, 1],
      ]);
      // Newest by default; the one at or before a time; by id.
      expect((await loadSnapshot(store))!.resources[0]!.state).toBe('terminated');
      expect((await loadSnapshot(store, '2026-03-06T14:00:00Z'))!.resources[0]!.state).toBe('running');
      expect((await loadSnapshot(store, '20260306T090000Z-aaaaaa'))!.id).toBe('20260306T090000Z-aaaaaa');
      await expect(loadSnapshot(store, '2026-03-05T00:00:00Z')).rejects.toThrow(/no snapshot taken at or before 2026-03-05T00:00:00Z/);
      await expect(loadSnapshot(store, 'no-such-snapshot')).rejects.toThrow(/no snapshot "no-such-snapshot" in the store/);
      // Read back field for field.
      const back = (await loadSnapshot(store, '20260306T090000Z-aaaaaa'))!;
      expect(back.resources).toEqual(morning.resources);
      expect(back.gaps).toEqual(morning.gaps);
      expect(back.regions).toEqual(morning.regions);
      expect(back).toMatchObject({ source: 'aws', uri: 'aws', sha256: null, takenAt: '2026-03-06T09:00:00.000Z', account: '111122223333' });
      // Limited to the plan's accounts: another account's snapshot is not taken.
      await saveSnapshot(store, doc('20260307T000000Z-cccccc', '2026-03-07T00:00:00.000Z', 'running', '999988887777'), { source: 'aws', uri: 'aws' }, null);
      expect((await loadSnapshot(store, undefined, ['111122223333']))!.id).toBe('20260306T180000Z-bbbbbb');
    } finally {
      store.close();
    }
  });

  it('refuses a document of the wrong shape, naming the field', () => {
    const good = doc('20260306T090000Z-aaaaaa', '2026-03-06T09:00:00.000Z', 'running');
    expect(parseSnapshotDocument(JSON.parse(JSON.stringify(good)), 'x.json').id).toBe(good.id);
    const wrongKind = { ...good, resources: [{ ...good.resources[0], kind: 'ec2:anything' }] };
    expect(() => parseSnapshotDocument(wrongKind, 'x.json')).toThrow(/^x\.json: not a trailhound snapshot document: resources\[0\]\.kind: /);
    expect(() => parseSnapshotDocument({ ...good, account: "1'; drop table events; --" }, 'x.json')).toThrow(/account: a 12-digit account id/);
    expect(() => parseSnapshotDocument({ ...good, takenAt: 'yesterday' }, 'x.json')).toThrow(/takenAt: an ISO 8601 time/);
  });
});

describe('the now view', () => {
  it('escapes names from the account in text and Markdown', () => {
    const now: NowView = {
      snapshot: { id: 's1', takenAt: '2026-03-06T09:00:00.000Z', account: '111122223333' },
      created: [{ kind: 'iam:user', id: '<img src=x onerror=alert(1)>', region: null, action: 'CreateUser', eventId: 'e1', now: 'exists', state: 'exists' }],
      unexplained: [{ kind: 'lambda:function', id: 'evil|fn\u001b[31m', region: 'eu-west-1', state: 'Active', createdAt: null, why: 'no creation time: no creating call in the evidence names it' }],
      unexplainedTotal: 1,
    };
    const text = nowLines(now, terminalSafe).join('\n');
    expect(text).not.toContain('\u001b');
    const md = nowMarkdown(now).join('\n');
    expect(md).not.toContain('<img');
    expect(md).not.toMatch(/evil\|fn/);
    expect(md).toContain('In the account, not explained by the evidence (1)');
  });
});
