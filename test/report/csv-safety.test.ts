import { afterAll, describe, expect, it } from 'vitest';
import type { Coverage } from '../../src/analyze/types.js';
import { runQuery } from '../../src/store/query.js';
import type { EvidenceEvent, Finding } from '../../src/report/evidence.js';
import { renderTable } from '../../src/report/tabular.js';
import { spreadsheetSafe } from '../../src/report/text-safety.js';
import { buildTimeline } from '../../src/report/timeline.js';
import { renderTimelineCsv } from '../../src/report/timeline-renderers.js';
import { buildPlan } from '../../src/remediate/plan.js';
import { Store } from '../../src/store/store.js';
import { CREATED_USER, evidenceEvent, findingOf } from '../helpers/evidence.js';
import { Workspace } from '../helpers/workspace.js';

/** Cells a spreadsheet would split into extra rows or run as formulas if written carelessly. */
const HOSTILE = [
  'x\r=1+1',
  'x\n=1+1',
  'x\r\n+1+1',
  'a\r@SUM(A1)\r-2+3',
  '\r=1+1',
  'ok\r\r=HYPERLINK("http://evil.example")',
  'line\n\tcmd',
  'comma, "quote"\rand CR',
  '\uff1dcmd',
  'x\n\uff20SUM(A1)',
  'plain',
];

const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

interface Field {
  readonly text: string;
  readonly quoted: boolean;
}

/**
 * A strict RFC 4180 reader that also refuses a bare CR outside quotes, since Excel and
 * LibreOffice read one as a line break there.
 */
function parseCsv(text: string): Field[][] {
  const records: Field[][] = [];
  let record: Field[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') inQuotes = false;
      else field += c;
    } else if (c === '"' && field === '' && !quoted) (inQuotes = true), (quoted = true);
    else if (c === '"') throw new Error(`stray quote at ${i}`);
    else if (c === '\r') throw new Error(`bare CR outside quotes at ${i}`);
    else if (c === ',' || c === '\n') {
      record.push({ text: field, quoted });
      field = '';
      quoted = false;
      if (c === '\n') records.push(record), (record = []);
    } else field += c;
  }
  if (inQuotes) throw new Error('unterminated quoted field');
  if (field || record.length) throw new Error('last record has no line end');
  return records;
}

/** Every line inside a cell, split at CR LF, CR or LF as a spreadsheet would. */
const linesOf = (cell: string) => cell.split(/\r\n|\r|\n/);

function expectSafe(records: Field[][]): void {
  for (const record of records) {
    for (const field of record) {
      if (/[\r\n",]/.test(field.text)) expect(field.quoted, JSON.stringify(field.text)).toBe(true);
      for (const line of linesOf(field.text)) expect(line, JSON.stringify(field.text)).not.toMatch(FORMULA_START);
    }
  }
}

describe('spreadsheetSafe', () => {
  it.each([
    ['x\r=1+1', "x\r'=1+1"],
    ['x\r\n+1', "x\r\n'+1"],
    ['\r=1', "'\r'=1"],
    ['a\n@b\n-c\n\td', "a\n'@b\n'-c\n'\td"],
    ['\uff1dcmd', "'\uff1dcmd"],
  ])('guards the cell and every line inside it: %j', (value, safe) => {
    expect(spreadsheetSafe(value)).toBe(safe);
  });

  it('leaves text without a formula start alone, line breaks included', () => {
    for (const value of ['aws-cli/2.15', 'one\ntwo\r\nthree\rfour', 'a=b+c', '']) expect(spreadsheetSafe(value)).toBe(value);
  });
});

describe('CSV from renderTable', () => {
  const csv = renderTable({ columns: ['n', 'value', '=header'], rows: HOSTILE.map((value, n) => ({ n, value, '=header': `${value},${value}` })) }, 'csv');

  it('quotes every field with CR, LF, quote or comma, so the row count stays right', () => {
    const records = parseCsv(csv);
    expect(records).toHaveLength(HOSTILE.length + 1);
    for (const record of records) expect(record).toHaveLength(3);
    expect(records.slice(1).map((r) => r[1]!.text)).toEqual(HOSTILE.map(spreadsheetSafe));
    expect(csv).toContain('"x\r\'=1+1"');
  });

  it('leaves no line inside any cell starting like a formula', () => {
    expectSafe(parseCsv(csv));
    expect(parseCsv(csv)[0]![2]!.text).toBe("'=header");
  });
});

describe('CSV from timeline --format csv', () => {
  it('keeps one record per entry when the logs hold bare CRs and formulas after line breaks', () => {
    const events: EvidenceEvent[] = HOSTILE.map((value, i) =>
      evidenceEvent('CreateUser', {
        eventId: `evt-${String(i).padStart(2, '0')}`,
        eventTime: `2026-03-04T01:${String(i).padStart(2, '0')}:00Z`,
        userAgent: value,
        errorCode: value,
        errorMessage: value,
        requestParameters: { userName: value },
        provenance: { uri: `s3://bucket/${i}.json.gz`, sha256: 'ab'.repeat(32), recordIndex: i, runId: 'r1' },
      }),
    );
    const findings: Finding[] = events.map((e) => findingOf(e, { ...CREATED_USER, resource: e.userAgent, summary: `IAM user ${e.userAgent ?? ''} created` }));
    const coverage: Coverage = { from: '2026-03-04T00:00:00Z', to: '2026-03-05T00:00:00Z', accounts: ['111122223333'], regions: ['us-east-1'], events: events.length, sources: [{ name: 'file', count: events.length }], gaps: [] };
    const report = buildTimeline({
      findings,
      events,
      coverage,
      investigations: [],
      plan: buildPlan({ findings, events, containedAt: '2026-03-06T12:00:00Z' }),
      scope: { mode: 'store', keys: [], ips: [], principals: [], sessions: [], since: null, until: null, minSeverity: 'info' },
      generatedAt: '2026-03-06T12:00:00Z',
      toolVersion: '0.0.0-test',
    });
    const records = parseCsv(renderTimelineCsv(report));
    expect(records).toHaveLength(report.entries.length + 1);
    for (const record of records) expect(record).toHaveLength(records[0]!.length);
    expectSafe(records);
    const agent = records[0]!.findIndex((f) => f.text === 'userAgent');
    expect(records.slice(1).map((r) => r[agent]!.text)).toEqual(expect.arrayContaining(HOSTILE.map(spreadsheetSafe)));
  });
});

describe('CSV from query --format csv', () => {
  const ws = new Workspace();
  afterAll(() => ws.dispose());

  it('quotes a bare CR that DuckDB returns and guards the formula after it', async () => {
    const db = ws.path('case.duckdb');
    (await Store.open(db)).close();
    const store = await Store.open(db, { readOnly: true });
    try {
      const result = await runQuery(store, "select 1 as i, 'x' || chr(13) || '=1+1' as v, 'a' || chr(10) || '@SUM(A1)' as w union all select 2, 'plain', 'b' order by i");
      const records = parseCsv(renderTable(result, 'csv'));
      expect(records.map((r) => r.map((f) => f.text))).toEqual([
        ['i', 'v', 'w'],
        ['1', "x\r'=1+1", "a\n'@SUM(A1)"],
        ['2', 'plain', 'b'],
      ]);
      expectSafe(records);
    } finally {
      store.close();
    }
  });
});
