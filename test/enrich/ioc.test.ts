import { describe, expect, it } from 'vitest';
import { runDetections } from '../../src/detect/runner.js';
import { iocDetection, loadIocFiles, parseIocText, prepareIocTables } from '../../src/enrich/ioc.js';
import { Store } from '../../src/store/store.js';
import { makeRecord } from '../../synth/records.js';
import { cli } from '../helpers/cli.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const KEY = 'AKIAEXAMPLEIOC000001';
const identity = (key: string, user: string) => ({ type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${user}`, accountId: '111122223333', accessKeyId: key, userName: user });

describe('IOC files', () => {
  it('reads each kind of indicator from its shape, or from a kind,value CSV line', () => {
    const { indicators, problems } = parseIocText(
      [
        '# a comment',
        '198.51.100.7',
        '2001:db8::/32',
        'AKIAEXAMPLEIOC000001',
        'arn:aws:iam::111122223333:user/backdoor',
        '0f6cbaec-0c61-4391-a64d-638f8fdef273',
        'user-agent,evil-scanner/1.0,the scanner seen in case 12',
        'cidr,203.0.113.0/24',
        'ami-0abcdef1234567890',
        'image,AMI-1234ABCD,a backdoored community image',
      ].join('\n'),
      'iocs.txt',
    );
    expect(problems).toEqual([]);
    expect(indicators.map((i) => [i.kind, i.value, i.line])).toEqual([
      ['ip', '198.51.100.7', 2],
      ['cidr', '2001:db8::/32', 3],
      ['access-key', KEY, 4],
      ['arn', 'arn:aws:iam::111122223333:user/backdoor', 5],
      ['event-id', '0f6cbaec-0c61-4391-a64d-638f8fdef273', 6],
      ['user-agent', 'evil-scanner/1.0', 7],
      ['cidr', '203.0.113.0/24', 8],
      ['ami', 'ami-0abcdef1234567890', 9],
      ['ami', 'ami-1234abcd', 10],
    ]);
    expect(indicators[5]!.description).toBe('the scanner seen in case 12');
  });

  it('names each bad line with its number and loads the rest', () => {
    const { indicators, problems } = parseIocText(['kind,value', '203.0.113.9', 'not-an-indicator', 'ip,999.1.1.1', 'cidr,10.0.0.0/99', 'access-key,AKIA-lowercase', '8.8.8.8', 'ami,ami-12345'].join('\n'), 'bad.csv');
    expect(indicators.map((i) => i.value)).toEqual(['203.0.113.9', '8.8.8.8']);
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 8]);
    expect(problems[4]!.reason).toMatch(/not an AMI id/);
    expect(problems[0]!.reason).toMatch(/user-agent,/);
  });

  it('reads address indicators of a STIX 2.1 bundle', () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        { type: 'indicator', id: 'indicator--1', name: 'C2', pattern: "[ipv4-addr:value = '203.0.113.5'] OR [ipv6-addr:value = '2001:db8::1']", pattern_type: 'stix' },
        { type: 'indicator', id: 'indicator--2', pattern: "[network-traffic:src_ref.value = '198.51.100.0/24']", pattern_type: 'stix' },
        { type: 'indicator', id: 'indicator--3', pattern: "[file:hashes.'SHA-256' = 'abc']", pattern_type: 'stix' },
        { type: 'malware', id: 'malware--1' },
      ],
    };
    const { indicators, problems } = parseIocText(JSON.stringify(bundle), 'feed.json');
    expect(indicators.map((i) => `${i.kind} ${i.value}`)).toEqual(['ip 203.0.113.5', 'ip 2001:db8::1', 'cidr 198.51.100.0/24']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toMatch(/indicator--3/);
  });

  it('reports a file that cannot be read and still loads the others', () => {
    const ws = new Workspace();
    try {
      const good = ws.write('good.txt', '203.0.113.5\n');
      const list = loadIocFiles([ws.path('missing.txt'), good]);
      expect(list.indicators).toHaveLength(1);
      expect(list.problems[0]).toMatchObject({ source: ws.path('missing.txt'), reason: expect.stringMatching(/ENOENT/) });
    } finally {
      ws.dispose();
    }
  });
});

describe('ioc_match', () => {
  const records = [
    makeRecord('ListBuckets', { eventTime: '2026-03-01T10:00:00Z', sourceIPAddress: '203.0.113.77', userIdentity: identity('AKIAEXAMPLEOTHER0001', 'bob') } as never),
    makeRecord('ListBuckets', { eventTime: '2026-03-01T10:01:00Z', sourceIPAddress: '198.51.100.20', userIdentity: identity(KEY, 'alice') } as never),
    makeRecord('GetCallerIdentity', { eventTime: '2026-03-01T10:02:00Z', sourceIPAddress: '192.0.2.1', userAgent: 'Evil-Scanner/1.0 (x)', userIdentity: identity('AKIAEXAMPLEOTHER0002', 'carol') } as never),
    makeRecord('ListBuckets', { eventTime: '2026-03-01T10:03:00Z', sourceIPAddress: '192.0.2.2', userIdentity: identity('AKIAEXAMPLEOTHER0003', 'dave') } as never),
    makeRecord('RunInstances', { eventTime: '2026-03-01T10:04:00Z', sourceIPAddress: '192.0.2.3', userIdentity: identity('AKIAEXAMPLEOTHER0004', 'erin'), requestParameters: { instancesSet: { items: [{ imageId: 'ami-0abcdef1234567890', minCount: 1, maxCount: 1 }] } } } as never),
    // The same digits as part of a longer id, and in a field that is not an image, are not the image.
    makeRecord('RunInstances', { eventTime: '2026-03-01T10:05:00Z', sourceIPAddress: '192.0.2.4', userIdentity: identity('AKIAEXAMPLEOTHER0005', 'frank'), requestParameters: { instancesSet: { items: [{ imageId: 'ami-0abcdef12345678901' }] } } } as never),
  ];

  it('raises one finding per indicator, identity and address, citing every matching event, with CIDR blocks computed', async () => {
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('events.jsonl', jsonLines(records))]);
      const { indicators } = parseIocText(['203.0.113.0/24', KEY, 'user-agent,evil-scanner', '192.0.2.200'].join('\n'), 'case.txt');
      await prepareIocTables(store, indicators);
      const result = await runDetections(store, [iocDetection()], {});
      const found = result.findings.map((f) => [f.sourceIp, f.summary]);
      expect(found).toHaveLength(3);
      expect(found[0]![1]).toMatch(/cidr 203\.0\.113\.0\/24 \(case\.txt:1\)/);
      expect(found[1]![1]).toMatch(new RegExp(`access-key ${KEY}`));
      expect(found[2]![1]).toMatch(/user-agent evil-scanner/);
      for (const f of result.findings) expect(f.eventIds).toHaveLength(1);
    } finally {
      store.close();
      ws.dispose();
    }
  });

  it('matches an AMI id named in a launch, and not a longer id that contains it', async () => {
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('events.jsonl', jsonLines(records))]);
      const { indicators } = parseIocText('ami,ami-0ABCDEF1234567890,known-vulnerable image\n', 'amis.csv');
      await prepareIocTables(store, indicators);
      const result = await runDetections(store, [iocDetection()], {});
      expect(result.findings.map((f) => [f.eventName, f.sourceIp])).toEqual([['RunInstances', '192.0.2.3']]);
      expect(result.findings[0]!.summary).toMatch(/ami ami-0abcdef1234567890 \(amis\.csv:1, known-vulnerable image\)/);
    } finally {
      store.close();
      ws.dispose();
    }
  });

  it('detect --ioc through the binary: bad lines named with file and line, the rest matched', () => {
    const ws = new Workspace();
    try {
      const db = ws.path('case.duckdb');
      expect(cli(['ingest', ws.write('events.jsonl', jsonLines(records)), '--db', db, '--no-progress']).code).toBe(0);
      const iocs = ws.write('iocs.txt', '203.0.113.77\nbogus line\n');
      const r = cli(['detect', '--db', db, '--ioc', iocs, '--only', 'ioc_match', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`${iocs}:2: cannot tell what "bogus line" is`);
      const out = JSON.parse(r.stdout) as { findings: { detection: string; sourceIp: string }[]; ioc: { indicators: number } };
      expect(out.findings.map((f) => [f.detection, f.sourceIp])).toEqual([['ioc_match', '203.0.113.77']]);
      expect(out.ioc.indicators).toBe(1);
      const athena = cli(['detect', '--db', db, '--ioc', iocs, '--engine', 'athena', '--athena-database', 'x']);
      expect(athena.code).toBe(2);
      expect(athena.stderr).toMatch(/--ioc, --geoip-db and --asn-db apply to the local store only/);
    } finally {
      ws.dispose();
    }
  });
});
