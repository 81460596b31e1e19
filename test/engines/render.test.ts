import { join } from 'node:path';
import pkg from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadSensitiveEvents, type Detection } from '../../src/detect/catalog.js';
import { renderDetection, returnsEventIds } from '../../src/engines/athena-render.js';
import { partitioningFrom, type AthenaTable } from '../../src/engines/athena-table.js';
import { NotPortableError } from '../../src/engines/dialect.js';
import { CLOUDTRAIL_COLUMNS, trinoFunctionsOf, TRINO_FUNCTIONS } from './trino.js';

const { Parser } = pkg;
const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
const catalog = loadCatalog(QUERIES);
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

const table: AthenaTable = {
  catalog: 'AwsDataCatalog',
  database: 'security',
  table: 'cloudtrail_logs',
  columns: [...CLOUDTRAIL_COLUMNS, 'timestamp', 'region', 'account'],
  partitioning: partitioningFrom(['account', 'region', 'timestamp'], { 'projection.timestamp.format': 'yyyy/MM/dd' }),
};
const window = { since: new Date('2026-03-01T00:00:00Z'), until: new Date('2026-03-08T00:00:00Z'), regions: ['us-east-1', 'eu-west-1'], accounts: ['111122223333'] };

describe('every detection rendered for Athena', () => {
  const portable = catalog.filter((d) => d.engines.includes('athena'));

  it('leaves out only detections whose metadata says why', () => {
    for (const d of catalog.filter((d) => !d.engines.includes('athena'))) expect(d.engineNote).toBeTruthy();
    expect(portable.length).toBeGreaterThanOrEqual(catalog.length - 5);
  });

  it.each(portable.map((d) => [d.id, d] as const))('%s parses as Trino and calls only Trino functions', (_id, detection: Detection) => {
    const { sql, constraint, hasEventIds } = renderDetection(detection, { table, window, sensitive, catalog });
    const ast = new Parser().astify(sql, { database: 'trino' });
    const unknown = trinoFunctionsOf(ast).filter((f) => !TRINO_FUNCTIONS.has(f));
    expect(unknown).toEqual([]);
    expect(constraint.dateBounded && constraint.regionBounded && constraint.accountBounded).toBe(true);
    expect(sql).toContain(`"timestamp" >= '2026/03/01'`);
    expect(sql).toContain(`"timestamp" <= '2026/03/07'`);
    expect(hasEventIds).toBe(returnsEventIds(detection.sql));
    expect(sql.replace(/'(?:[^']|'')*'/g, "''")).not.toMatch(/::|\bqualify\b|\bjson_extract_string\b|\barg_min\b|\blist\(|\bregexp_matches\b|\bstrftime\b/i);
  });

  it('refuses a detection marked DuckDB-only, with its reason', () => {
    const detection = { ...portable[0]!, engines: ['duckdb'] as const, engineNote: 'needs a DuckDB list function' };
    expect(() => renderDetection(detection, { table, window, sensitive, catalog })).toThrow(/DuckDB only: needs a DuckDB list function/);
  });

  it('refuses SQL the dialect layer cannot translate, naming the detection', () => {
    const detection = { ...portable[0]!, sql: 'select * from events qualify row_number() over (order by eventtime) = 1' };
    expect(() => renderDetection(detection, { table, window, sensitive, catalog })).toThrow(NotPortableError);
    expect(() => renderDetection(detection, { table, window, sensitive, catalog })).toThrow(new RegExp(`${detection.id}: QUALIFY`));
  });
});
