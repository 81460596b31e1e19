import { describe, expect, it } from 'vitest';
import { partitionConstraint, partitioningFrom, formatPartitionDate, eventColumns, type AthenaTable } from '../../src/engines/athena-table.js';
import { dateFormat, jsonPath, NotPortableError, splitWith, sqlIdentifier, sqlString, toTrino, tokenize } from '../../src/engines/dialect.js';
import { CLOUDTRAIL_COLUMNS } from './trino.js';

describe('toTrino: functions', () => {
  it('json_extract_string becomes json_extract_scalar, nested calls included', () => {
    expect(toTrino(`select json_extract_string(requestparameters, '$.userName') from events`)).toBe(`select json_extract_scalar(requestparameters, '$.userName') from events`);
    expect(toTrino(`coalesce(json_extract_string(a, '$.x'), json_extract_string(b, '$.y[0].z'), '?')`)).toBe(`coalesce(json_extract_scalar(a, '$.x'), json_extract_scalar(b, '$.y[0].z'), '?')`);
  });

  it('JSON path keys that are not plain names take Trino\'s bracket form', () => {
    expect(toTrino(`json_extract(requestparameters, '$.x-amz-acl')::varchar`)).toBe(`json_format(json_extract(requestparameters, '$["x-amz-acl"]'))`);
    expect(jsonPath(`'$."a b".c[2].d'`)).toBe(`'$["a b"].c[2].d'`);
    expect(jsonPath(`'$.instancesSet.items[0].maxCount'`)).toBe(`'$.instancesSet.items[0].maxCount'`);
    expect(() => jsonPath(`'x.y'`)).toThrow(/must start with \$/);
  });

  it('regexp_matches becomes regexp_like, and refuses the options argument', () => {
    expect(toTrino(`not regexp_matches(coalesce(x, ''), ':policy/(Admin|IAMFull)$')`)).toBe(`not regexp_like(coalesce(x, ''), ':policy/(Admin|IAMFull)$')`);
    expect(() => toTrino(`regexp_matches(x, 'a', 'i')`)).toThrow(NotPortableError);
  });

  it('arg_min and arg_max become min_by and max_by', () => {
    expect(toTrino('arg_min(sourceipaddress, eventtime), arg_max(eventid, eventtime)')).toBe('min_by(sourceipaddress, eventtime), max_by(eventid, eventtime)');
  });

  it('list(x order by …) becomes array_agg(x order by …)', () => {
    expect(toTrino('list(eventid order by eventtime, eventid) as eventids')).toBe('array_agg(eventid order by eventtime, eventid) as eventids');
  });

  it('strftime becomes date_format with MySQL-style fields', () => {
    expect(toTrino(`strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ')`)).toBe(`date_format(eventtime, '%Y-%m-%dT%H:%i:%sZ')`);
    expect(dateFormat(`'%d/%m/%Y %%'`)).toBe(`'%d/%m/%Y %%'`);
    expect(() => toTrino(`strftime(eventtime, '%j')`)).toThrow(/%j has no translation/);
    expect(() => toTrino(`strftime(eventtime, fmt)`)).toThrow(/literal format/);
  });

  it('date_diff counts unit boundaries on both engines', () => {
    expect(toTrino(`date_diff('day', a.first, b.first)`)).toBe(`date_diff('day', date_trunc('day', a.first), date_trunc('day', b.first))`);
    expect(() => toTrino(`date_diff('week', a, b)`)).toThrow(NotPortableError);
  });

  it('epoch and list_contains have Trino names', () => {
    expect(toTrino('epoch(eventtime)')).toBe('to_unixtime(eventtime)');
    expect(toTrino(`list_contains(ids, 'x')`)).toBe(`contains(ids, 'x')`);
  });

  it('leaves EXISTS, IN and window clauses alone', () => {
    const sql = `select * from events e where exists (select 1 from events x where x.eventid = e.eventid) and e.eventname in ('A', 'B') and count(*) filter (where errorcode is null) > 0`;
    expect(toTrino(sql)).toBe(sql);
  });

  it('keeps functions both engines share, and refuses any other', () => {
    const shared = `select coalesce(a, b), count(*), count(distinct c), min(t), split_part(u, '/', 1), date_trunc('hour', t), bool_or(x), json_array_length(json_extract(r, '$.a')), lead(t) over (partition by k order by t) from events`;
    expect(toTrino(shared)).toBe(shared);
    expect(() => toTrino('select string_agg(x, \',\') from events')).toThrow(/string_agg\(\) is not known to behave the same on Trino/);
    expect(() => toTrino('select list_distinct(x) from events')).toThrow(NotPortableError);
  });
});

describe('toTrino: casts, arrays, intervals', () => {
  it('x::type becomes cast(x as type)', () => {
    expect(toTrino('cast(n as varchar) || x::varchar || e.calls::bigint')).toBe('cast(n as varchar) || cast(x as varchar) || cast(e.calls as bigint)');
    expect(toTrino(`'2026-03-04'::timestamptz`)).toBe(`cast('2026-03-04' as timestamp with time zone)`);
    expect(() => toTrino('x::hugeint')).toThrow(/no Trino type/);
    expect(() => toTrino('x::varchar[]')).toThrow(NotPortableError);
  });

  it('a JSON value cast to text becomes json_format (Trino cannot cast a JSON object or array to varchar)', () => {
    expect(toTrino(`json_extract(requestparameters, '$.alarmNames')::varchar like '%x%'`)).toBe(`json_format(json_extract(requestparameters, '$.alarmNames')) like '%x%'`);
    expect(toTrino(`cast(json_extract(r, '$.a') as varchar)`)).toBe(`json_format(json_extract(r, '$.a'))`);
    // A cast over a function the layer renames is translated once, not read again as DuckDB.
    expect(toTrino(`try_cast(coalesce(json_extract_string(r, '$.n'), 'x') as double) > 5`)).toBe(`try_cast(coalesce(json_extract_scalar(r, '$.n'), 'x') as double) > 5`);
  });

  it('[a, b] becomes array[a, b]; a subscript stays', () => {
    expect(toTrino('case when x then [eventid, next_id] else [eventid] end')).toBe('case when x then array[eventid, next_id] else array[eventid] end');
    expect(toTrino('d.eventids[1] as eventid, eventids[1]')).toBe('d.eventids[1] as eventid, eventids[1]');
  });

  it('interval literals take the quoted-number form', () => {
    expect(toTrino('t + interval 1 day')).toBe(`t + interval '1' day`);
    expect(toTrino(`t - interval '2 hours'`)).toBe(`t - interval '2' hour`);
    expect(toTrino(`t - interval '15' minute`)).toBe(`t - interval '15' minute`);
    expect(() => toTrino('t + interval 1 fortnight')).toThrow(NotPortableError);
  });

  it('refuses QUALIFY, saying what to write instead', () => {
    expect(() => toTrino('select * from events qualify row_number() over (order by eventid) = 1')).toThrow(/QUALIFY has no Trino form; filter a subquery on row_number\(\) instead/);
  });

  it('leaves string literals, comments and quoted names alone', () => {
    const sql = `select 'it''s list(x) and a::b' as "list", x -- arg_min(a, b)\nfrom events`;
    expect(toTrino(sql)).toBe(sql);
    expect(tokenize(`'a''b'`)).toEqual([{ kind: 'string', text: `'a''b'` }]);
  });
});

describe('SQL text helpers', () => {
  it('sqlString doubles quotes and refuses NUL', () => {
    expect(sqlString(`O'Brien'); drop table x; --`)).toBe(`'O''Brien''); drop table x; --'`);
    expect(() => sqlString('a\0b')).toThrow(NotPortableError);
  });

  it('sqlIdentifier quotes plain names only', () => {
    expect(sqlIdentifier('timestamp')).toBe('"timestamp"');
    expect(() => sqlIdentifier('x" or 1=1 --')).toThrow(NotPortableError);
  });

  it('splitWith separates WITH items from the final statement', () => {
    expect(splitWith(`with a as (select 1), b (x) as (select (2)) select * from a, b`)).toEqual({ ctes: ['a as (select 1)', 'b (x) as (select (2))'], body: 'select * from a, b' });
    expect(splitWith('select 1')).toEqual({ ctes: [], body: 'select 1' });
  });
});

describe('partitions', () => {
  it('are read from the partition keys and projection parameters', () => {
    expect(partitioningFrom(['region', 'year', 'month', 'day'])).toEqual({ date: { kind: 'ymd', year: 'year', month: 'month', day: 'day' }, region: 'region', others: [] });
    expect(partitioningFrom(['account', 'region', 'timestamp'], { 'projection.timestamp.format': 'yyyy/MM/dd' })).toEqual({
      date: { kind: 'single', column: 'timestamp', format: 'yyyy/MM/dd' },
      region: 'region',
      account: 'account',
      others: [],
    });
    expect(partitioningFrom(['dt', 'shard'], { 'projection.dt.format': 'yyyy-MM-dd-HH' })).toEqual({ date: { kind: 'single', column: 'dt', format: 'yyyy-MM-dd-HH' }, others: ['shard'] });
    // A day-first format does not sort as text, so it cannot bound a range.
    expect(partitioningFrom(['dt'], { 'projection.dt.format': 'dd/MM/yyyy' })).toEqual({ others: ['dt'] });
    expect(partitioningFrom([])).toEqual({ others: [] });
  });

  it('are constrained by the window: day range, regions, accounts', () => {
    const p = partitioningFrom(['account', 'region', 'timestamp']);
    const c = partitionConstraint(p, { since: new Date('2026-03-04T10:00:00Z'), until: new Date('2026-03-06T00:00:00Z'), regions: ['us-east-1'], accounts: ['111122223333'] });
    expect(c.predicates).toEqual([`"timestamp" >= '2026/03/04'`, `"timestamp" <= '2026/03/05'`, `"region" in ('us-east-1')`, `"account" in ('111122223333')`]);
    expect(c).toMatchObject({ dateBounded: true, regionBounded: true, accountBounded: true });
    expect(formatPartitionDate(new Date('2026-03-04T10:00:00Z'), 'yyyy-MM-dd-HH')).toBe('2026-03-04-10');
  });

  it('are not constrained without a start, and say so', () => {
    const c = partitionConstraint(partitioningFrom(['region', 'year', 'month', 'day']), { until: new Date('2026-01-01T00:00:00Z') });
    expect(c.dateBounded).toBe(false);
    expect(c.predicates).toEqual([`("year" < '2025' or ("year" = '2025' and ("month" < '12' or ("month" = '12' and "day" <= '31'))))`]);
  });

  it('refuse region and account values that are not names or ids', () => {
    const p = partitioningFrom(['region']);
    expect(() => partitionConstraint(p, { regions: ["us-east-1') or ('1'='1"] })).toThrow(/not a region name/);
    expect(() => partitionConstraint(p, { accounts: ['1234'] })).toThrow(/12-digit/);
  });
});

describe('the events relation on Athena', () => {
  const table = (columns: readonly string[]): AthenaTable => ({ catalog: 'AwsDataCatalog', database: 'd', table: 't', columns, partitioning: { others: [] } });

  it('computes the pivot columns from the useridentity struct, as the store does from the record', () => {
    const columns = new Map(eventColumns(table([...CLOUDTRAIL_COLUMNS])));
    expect(columns.get('access_key_id')).toBe(`nullif(useridentity.accesskeyid, '')`);
    expect(columns.get('session_issuer_arn')).toBe('useridentity.sessioncontext.sessionissuer.arn');
    expect(columns.get('eventtime')).toBe('try(from_iso8601_timestamp(eventtime))');
    expect(columns.get('readonly')).toBe(`(lower(cast(readonly as varchar)) = 'true')`);
  });

  it('uses NULL for columns an older table lacks, and refuses a table that is not CloudTrail', () => {
    const older = new Map(eventColumns(table(CLOUDTRAIL_COLUMNS.filter((c) => c !== 'eventcategory' && c !== 'vpcendpointid'))));
    expect(older.get('eventcategory')).toBe('cast(null as varchar)');
    expect(() => eventColumns(table(['eventid', 'eventtime']))).toThrow(/lacks eventversion, useridentity/);
  });
});
