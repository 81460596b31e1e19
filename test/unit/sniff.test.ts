import { describe, expect, it } from 'vitest';
import { sniff } from '../../src/ingest/sniff.js';

describe('sniff', () => {
  it.each([
    ['{"Records":[{"eventVersion":"1.08"}]}', 'records'],
    ['\uFEFF  {\n  "Records" : [\n', 'records'],
    ['[{"eventVersion":"1.08","eventTime":"2026-01-01T00:00:00Z"}]', 'array'],
    ['{"eventVersion":"1.08","eventTime":"x"}\n{"eventVersion":"1.08"}\n', 'jsonl'],
    ['{\n  "eventVersion": "1.08",\n  "eventTime": "x"\n}', 'object'],
    ['{"Events":[{"EventId":"1","CloudTrailEvent":"{\\"eventVersion\\":\\"1.08\\"}"}]}', 'lookup-events'],
    ['[{"EventId":"1","CloudTrailEvent":"{}"}]', 'event-history-array'],
  ])('recognises %j as %s', (head, format) => {
    const result = sniff(head);
    expect(result.kind).toBe('events');
    expect(result.kind === 'events' && result.format).toBe(format);
  });

  it('marks lookup-style wrappers as embedded records', () => {
    const result = sniff('{"Events":[{"CloudTrailEvent":"{}"}]}');
    expect(result).toMatchObject({ kind: 'events', container: 'events', embedded: true });
  });

  it('recognises digest files', () => {
    expect(sniff('{"awsAccountId":"111122223333","digestStartTime":"2026-03-02T00:00:00Z"}').kind).toBe('digest');
  });

  it.each([
    ['', 'empty file'],
    ['   \n', 'empty file'],
    ['[]', 'empty JSON array'],
    ['[1,2,3]', 'non-objects'],
    ['[{"a":1}]', 'not CloudTrail records'],
    ['{"name":"package","version":"1.0.0"}', 'not CloudTrail'],
    ['hello world', 'not JSON'],
  ])('skips %j with a reason', (head, reason) => {
    const result = sniff(head);
    expect(result.kind).toBe('skip');
    expect(result.kind === 'skip' && result.reason).toContain(reason);
  });
});
