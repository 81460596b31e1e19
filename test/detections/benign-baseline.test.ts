import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { corpusFileRecords, planCorpusFile } from '../../synth/corpus.js';
import { DEMO_FACTS, demoScenario } from '../../synth/scenario.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const catalog = loadCatalog(join(import.meta.dirname, '..', '..', 'queries'));
const sensitive = loadSensitiveEvents(join(import.meta.dirname, '..', '..', 'queries', 'sensitive-events.yml'));

/** Findings on ordinary activity that are accepted, each with the reason. */
const KNOWN_FALSE_POSITIVES: ReadonlyArray<{ readonly detection: string; readonly why: string }> = [
  { detection: 'iam_user_created', why: 'administrators onboard users in the synthetic corpus' },
  { detection: 'sts_session_token_issued', why: 'developers mint MFA-protected CLI sessions in the synthetic corpus' },
];

describe('benign baseline', () => {
  it('no detection of medium severity or above fires on the demo account\'s ordinary activity', async () => {
    const attacker = new Set<string>(DEMO_FACTS.attackerIps);
    const attackerKeys = new Set<string>([DEMO_FACTS.leakedKeyId, DEMO_FACTS.mintedKeyId, DEMO_FACTS.createdKeyId]);
    const ordinary = demoScenario().filter(
      (r) =>
        !attacker.has(r.sourceIPAddress ?? '') &&
        !(attackerKeys.has(r.userIdentity?.accessKeyId ?? '') && attacker.has(r.sourceIPAddress ?? '')) &&
        r.userIdentity?.userName !== DEMO_FACTS.createdUser,
    );
    expect(ordinary.length).toBeGreaterThan(1000);
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('ordinary.jsonl', jsonLines(ordinary))]);
      const result = await runDetections(store, catalog, { minSeverity: 'medium', sensitive });
      expect(result.failures).toEqual([]);
      const unexpected = result.findings.filter((f) => !KNOWN_FALSE_POSITIVES.some((k) => k.detection === f.detection));
      expect(unexpected.map((f) => `${f.detection}: ${f.summary}`)).toEqual([]);
    } finally {
      store.close();
      ws.dispose();
    }
  });
});

describe('benign baseline: synthetic corpus', () => {
  it('only listed known false positives fire at medium or above on a day of 3,000 ordinary events', async () => {
    const ordinary = Array.from({ length: 6 }, (_, i) => corpusFileRecords(planCorpusFile(i, { events: 3000, out: 'unused', files: 6, days: 1 }))).flat();
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('corpus.jsonl', jsonLines(ordinary))]);
      const result = await runDetections(store, catalog, { minSeverity: 'medium', sensitive });
      expect(result.failures).toEqual([]);
      const unexpected = result.findings.filter((f) => !KNOWN_FALSE_POSITIVES.some((k) => k.detection === f.detection));
      expect(unexpected.map((f) => `${f.detection}: ${f.summary}`)).toEqual([]);
      expect(result.findings.map((f) => f.detection)).toContain('iam_user_created');
    } finally {
      store.close();
      ws.dispose();
    }
  });
});
