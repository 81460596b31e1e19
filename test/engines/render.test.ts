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
    // Eight read what Athena's table does not hold: the stored record, userIdentity as JSON, or the account snapshot.
    expect(portable.length).toBeGreaterThanOrEqual(catalog.length - 8);
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
    // The Trino grammar lets these two DuckDB forms through (see below), so they are checked here.
    expect(sql.replace(/'(?:[^']|'')*'/g, "''")).not.toMatch(/::|\binterval\s+\d|\bqualify\b|\bjson_extract_string\b|\barg_min\b|\blist\(|\bregexp_matches\b|\bstrftime\b/i);
  });

  it('relies on a parser that rejects DuckDB-only syntax (and says which forms it lets through)', () => {
    const parser = new Parser();
    const parses = (sql: string) => {
      try {
        parser.astify(sql, { database: 'trino' });
        return true;
      } catch {
        return false;
      }
    };
    for (const duckdbOnly of ['select [a, b] from t', 'select * from t qualify row_number() over (order by a) = 1', 'select list(a order by b) from t group by c', 'select a from t group by all', 'select * exclude (a) from t', 'select * from t where a >']) {
      expect([duckdbOnly, parses(duckdbOnly)]).toEqual([duckdbOnly, false]);
    }
    // Accepted although Trino rejects them: checked by the pattern in the test above.
    expect(parses('select a::varchar from t')).toBe(true);
    expect(parses('select interval 1 day from t')).toBe(true);
    // Valid Trino the grammar rejects: the queries spell it out instead.
    expect(parses('select a from t where b is not distinct from c')).toBe(false);
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
