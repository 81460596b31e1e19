import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/core/time.js';
import { renderTable } from '../../src/report/tabular.js';
import { spreadsheetSafe, terminalSafe, terminalSafeLines } from '../../src/report/text-safety.js';

describe('terminalSafe', () => {
  it('shows control characters instead of obeying them', () => {
    expect(terminalSafe('ok\u001b[31mred\u0007\r')).toBe('ok\\x1b[31mred\\x07\\x0d');
    expect(terminalSafe('a\u202eb')).toBe('a\\u202eb');
    expect(terminalSafe('plain text\twith tab')).toBe('plain text\twith tab');
  });
  it('keeps a log field on one line, so it cannot forge a line of its own', () => {
    expect(terminalSafe('curl/8\ntrailhound: no findings')).toBe('curl/8\\x0atrailhound: no findings');
    expect(terminalSafe('a\r\nb\u2028c')).toBe('a\\x0d\\x0ab\\u2028c');
  });
  it('keeps the line feeds of a rendered document, and escapes the rest', () => {
    expect(terminalSafeLines('# title\nline \u001b[2J\r\n')).toBe('# title\nline \\x1b[2J\\x0d\n');
  });
});

describe('spreadsheetSafe', () => {
  it.each(['=cmd', '+1', '-1+1', '@SUM(A1)', '\tx', '\rx'])('neutralises %j', (value) => {
    expect(spreadsheetSafe(value)).toBe(`'${value}`);
  });
  it('leaves ordinary text alone', () => {
    expect(spreadsheetSafe('aws-cli/2.15')).toBe('aws-cli/2.15');
  });
});

describe('renderTable', () => {
  const table = {
    columns: ['name', 'n', 'ua'],
    rows: [
      { name: 'RunInstances', n: 3, ua: '=cmd|\' /C calc\'!A0' },
      { name: 'a,"b"\nc', n: 10, ua: null },
    ],
  };

  it('writes RFC 4180 CSV with formulas neutralised', () => {
    expect(renderTable(table, 'csv')).toBe('name,n,ua\nRunInstances,3,\'=cmd|\' /C calc\'!A0\n"a,""b""\nc",10,\n');
  });

  it('writes JSON and JSON Lines with the columns in order', () => {
    expect(JSON.parse(renderTable(table, 'json'))).toEqual(table.rows);
    expect(renderTable(table, 'jsonl').trim().split('\n')).toHaveLength(2);
  });

  it('aligns a text table and folds newlines', () => {
    const text = renderTable(table, 'table');
    expect(text.split('\n')[0]).toBe('name           n  ua');
    expect(text).toContain('a,"b" c       10');
    expect(text).toContain('(2 rows)');
  });
});

describe('parseInstant', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  it('reads ISO dates as UTC', () => {
    expect(parseInstant('2026-03-04', now).toISOString()).toBe('2026-03-04T00:00:00.000Z');
    expect(parseInstant('2026-03-04T10:00:00', now).toISOString()).toBe('2026-03-04T10:00:00.000Z');
    expect(parseInstant('2026-03-04T10:00:00+02:00', now).toISOString()).toBe('2026-03-04T08:00:00.000Z');
  });
  it('reads spans back from now', () => {
    expect(parseInstant('7d', now).toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(parseInstant('12h', now).toISOString()).toBe('2026-03-10T00:00:00.000Z');
  });
  it('rejects anything else with what to write instead', () => {
    expect(() => parseInstant('last tuesday', now)).toThrow(/ISO-8601/);
    expect(() => parseInstant('1', now)).toThrow(/ISO-8601/);
  });
  it('refuses a span too long to be a time instead of failing on an invalid date', () => {
    expect(() => parseInstant('1000000000d', now)).toThrow(/reaches before 1970/);
    expect(() => parseInstant(`${'9'.repeat(400)}d`, now)).toThrow(/reaches before 1970/);
  });
});
