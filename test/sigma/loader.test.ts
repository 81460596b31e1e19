import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDetections } from '../../src/detect/runner.js';
import { loadSigmaRules } from '../../src/sigma/loader.js';
import { Store } from '../../src/store/store.js';
import { makeCall } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';
import { detectOnAthena } from './on-athena.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'sigma');

describe('Sigma rule loader', () => {
  it('reads .yml and .yaml rules from directories, recursively, into detections sorted by id', () => {
    const { detections, untranslated } = loadSigmaRules([join(FIXTURES, 'rules')]);
    expect(untranslated).toEqual([]);
    expect(detections.map((d) => d.id)).toEqual([
      'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0001',
      'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0002',
      'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0003',
    ]);
  });

  it('carries the rule metadata and its provenance (path and hash of the file)', () => {
    const path = join(FIXTURES, 'rules', 'trail_stopped.yml');
    const [d] = loadSigmaRules([path]).detections;
    expect(d).toMatchObject({
      id: 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0001',
      area: 'sigma',
      title: 'Trail stopped or deleted',
      severity: 'high',
      attemptSeverity: 'high',
      tactics: ['TA0005'],
      techniques: ['T1562.008'],
      references: ['https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html'],
      falsePositives: ['Decommissioning a trail'],
      engines: ['duckdb', 'athena'],
      sigma: { ruleId: '0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0001', path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), status: 'test' },
    });
    // Without a level a rule is medium; a keyword selection keeps it on the local store.
    const keyword = loadSigmaRules([join(FIXTURES, 'rules', 'public_acl_or_keyword.yaml')]).detections[0]!;
    expect(keyword.severity).toBe('critical');
    expect(keyword.engines).toEqual(['duckdb']);
  });

  it('lists every rule that does not run with its path and the reason, and goes on', () => {
    const { detections, untranslated } = loadSigmaRules([join(FIXTURES, 'broken'), join(FIXTURES, 'rules'), join(FIXTURES, 'missing.yml')]);
    const reasons = Object.fromEntries(untranslated.map((u) => [u.path.slice(FIXTURES.length + 1), u.reason]));
    expect(Object.keys(reasons).sort()).toEqual([
      'broken/bad_yaml.yml',
      'broken/correlation.yml',
      'broken/expand_modifier.yml',
      'broken/unknown_identifier.yml',
      'broken/windows_rule.yml',
      'missing.yml',
      'rules/trail_stopped.yml',
    ]);
    expect(reasons['broken/bad_yaml.yml']).toMatch(/^not valid YAML/);
    expect(reasons['broken/correlation.yml']).toMatch(/correlation type "value_sum" is not run/);
    expect(reasons['broken/expand_modifier.yml']).toMatch(/expand modifier/);
    expect(reasons['broken/unknown_identifier.yml']).toMatch(/names "filter", which the detection does not define/);
    expect(reasons['broken/windows_rule.yml']).toMatch(/not AWS CloudTrail/);
    expect(reasons['missing.yml']).toMatch(/cannot be read \(ENOENT\)/);
    // The id was first claimed by broken/duplicate_id.yml (files are read in path order).
    expect(reasons['rules/trail_stopped.yml']).toMatch(/already used by .*duplicate_id\.yml/);
    expect(untranslated.find((u) => u.path.endsWith('expand_modifier.yml'))!.id).toBe('0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0006');
    expect(detections).toHaveLength(3);
  });

  it('refuses a rule without a UUID id or with an unknown level', async () => {
    const ws = new Workspace();
    try {
      const base = 'title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection: {selection: {eventName: x}, condition: selection}\n';
      ws.write('a.yml', `${base}id: not-a-uuid\n`);
      ws.write('b.yml', `${base}id: 11111111-2222-4333-8444-555555555555\nlevel: severe\n`);
      ws.write('c.yml', `${base}id: 11111111-2222-4333-8444-555555555556\ntags: attack.t1098\n`);
      const { untranslated } = loadSigmaRules([ws.path('.')]);
      expect(untranslated.map((u) => u.reason)).toEqual([
        'id "not-a-uuid" is not a UUID',
        'level "severe" is not one of informational, low, medium, high, critical',
        'tags must be a list of strings',
      ]);
    } finally {
      ws.dispose();
    }
  });
});

describe('the project\'s Sigma rules on Athena', () => {
  it('give the findings they give on DuckDB; the rule that reads the stored record is skipped with the reason', async () => {
    const { detections } = loadSigmaRules([join(FIXTURES, 'rules')]);
    const records = [
      makeCall('StopLogging', 'cloudtrail.amazonaws.com', { eventTime: '2026-03-02T10:00:00Z' }),
      makeCall('StopLogging', 'cloudtrail.amazonaws.com', { eventTime: '2026-03-02T10:00:01Z', userIdentity: { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' } }),
      makeCall('CreateAccessKey', 'iam.amazonaws.com', { eventTime: '2026-03-02T10:01:00Z', requestParameters: { userName: 'backdoor' } }),
      makeCall('PutBucketAcl', 's3.amazonaws.com', { eventTime: '2026-03-02T10:02:00Z', sourceIPAddress: '203.0.113.9', requestParameters: { bucketName: 'b', 'x-amz-acl': 'public-read' } }),
    ];
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('r.jsonl', jsonLines(records))]);
      const local = await runDetections(store, detections);
      const remote = await detectOnAthena(records, detections);
      expect(remote.failures).toEqual([]);
      expect(remote.skipped).toEqual([{ detection: 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0003', reason: expect.stringMatching(/^runs on DuckDB only: a keyword selection/) }]);
      const onAthena = local.findings.filter((f) => f.detection !== 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0003');
      expect(onAthena.map((f) => f.detection)).toEqual(['sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0001', 'sigma:0b9f8e1a-4a57-4c1e-9d55-1d7c1c9a0002']);
      expect(remote.findings).toEqual(onAthena);
    } finally {
      store.close();
      ws.dispose();
    }
  }, 120_000);
});
