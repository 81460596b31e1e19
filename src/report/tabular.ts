import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe, terminalSafe } from './text-safety.js';

import type { Table } from '../core/table.js';

export type { Table };

/** Output formats for tabular data. */
export type TableFormat = 'table' | 'csv' | 'json' | 'jsonl';

/** Renders a table as aligned text, CSV (RFC 4180, every field with CR, LF, quote or comma quoted, formula-safe), a JSON array or JSON Lines. */
export function renderTable(table: Table, format: TableFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(table.rows.map((row) => pick(row, table.columns)), null, 2)}\n`;
    case 'jsonl':
      return table.rows.map((row) => `${JSON.stringify(pick(row, table.columns))}\n`).join('');
    case 'csv':
      return stringify(
        table.rows.map((row) => table.columns.map((c) => spreadsheetSafe(cellText(row[c])))),
        // csv-stringify quotes a field with LF, quote or comma but not one with a bare CR, which Excel still reads as a line break.
        { header: true, columns: table.columns.map((c) => spreadsheetSafe(c)), record_delimiter: 'unix', quoted_match: /[\r\n",]/ },
      );
    case 'table':
      return textTable(table);
  }
}

function pick(row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}

/** A cell as text: strings as they are, objects as JSON, null as empty. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const MAX_CELL = 80;

/**
 * Aligned text. Kept rather than a table library (cli-table3, table): every cell is log
 * content that must pass through terminalSafe and be cut before widths are measured, and
 * the output is one plain line per row that scripts can grep; those libraries draw borders,
 * wrap cells over several lines, and measure widths themselves.
 */
function textTable(table: Table): string {
  const cells = table.rows.map((row) =>
    table.columns.map((c) => {
      const text = terminalSafe(cellText(row[c]).replace(/\s*[\r\n]+\s*/g, ' '));
      return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
    }),
  );
  const headers = table.columns.map((c) => terminalSafe(c));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const numeric = table.columns.map((c) => table.rows.length > 0 && table.rows.every((r) => typeof r[c] === 'number' || r[c] === null || r[c] === undefined));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${table.rows.length} row${table.rows.length === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}
