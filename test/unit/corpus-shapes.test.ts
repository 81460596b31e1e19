import { describe, expect, it } from 'vitest';
import { BUSY_KEY_ID, CORPUS_ACCOUNTS, corpusFileRecords, planCorpusFile } from '../../synth/corpus.js';

const options = { events: 60_000, files: 120, out: 'unused', seed: 3, days: 2 };

describe('benchmark corpus shapes', () => {
  it('leave the ordinary corpus as it was', () => {
    const plan = planCorpusFile(5, options);
    expect(corpusFileRecords(plan, 3, 'ordinary')).toEqual(corpusFileRecords(plan, 3));
  });

  it('busy-key: one call of the busy key opens every file of the first account, so every hour has one', () => {
    const files = Array.from({ length: 120 }, (_, i) => planCorpusFile(i, options));
    const first = files.filter((p) => p.account === CORPUS_ACCOUNTS[0]);
    const hours = new Set<string>();
    for (const plan of first) {
      const records = corpusFileRecords(plan, 3, 'busy-key');
      expect(records).toHaveLength(plan.events);
      expect(records[0]!.userIdentity?.accessKeyId).toBe(BUSY_KEY_ID);
      expect(records.filter((r) => r.userIdentity?.accessKeyId === BUSY_KEY_ID)).toHaveLength(1);
      hours.add(records[0]!.eventTime!.slice(0, 13));
    }
    for (const plan of files.filter((p) => p.account !== CORPUS_ACCOUNTS[0])) {
      expect(corpusFileRecords(plan, 3, 'busy-key').some((r) => r.userIdentity?.accessKeyId === BUSY_KEY_ID)).toBe(false);
    }
    // 120 files over two days, a third of them in the first account: one every 1.2 hours at most.
    expect(hours.size).toBeGreaterThanOrEqual(30);
  });

  it('noisy-account: about 30 % of the events are key creations, policy attachments and GPU launches', () => {
    const records = Array.from({ length: 20 }, (_, i) => corpusFileRecords(planCorpusFile(i, options), 3, 'noisy-account')).flat();
    const sensitive = records.filter((r) => ['CreateAccessKey', 'AttachUserPolicy', 'RunInstances'].includes(r.eventName!));
    expect(sensitive.length / records.length).toBeGreaterThan(0.27);
    expect(sensitive.length / records.length).toBeLessThan(0.34);
    const launches = records.filter((r) => r.eventName === 'RunInstances').map((r) => (r.requestParameters as { instanceType?: string }).instanceType ?? '');
    expect(launches.filter((t) => /^(p|g)\d/.test(t)).length / launches.length).toBeGreaterThan(0.9);
  });
});
