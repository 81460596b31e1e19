/**
 * The organisation's CloudTrail table on Athena (the documented DDL, with or without
 * partition projection) and the `events` relation trailhound's SQL reads over it: the same
 * columns as the local store's `events` view, computed in Trino SQL, constrained to the
 * partitions of the window so that a query scans days, not years.
 */
import type { Scope } from '../core/scope.js';
import { UsageError } from '../core/errors.js';
import { sqlIdentifier, sqlString } from './dialect.js';
import { athenaProjection } from '../store/columns.js';

/** How the table is partitioned, as far as trailhound can constrain it. */
export interface Partitioning {
  /** The date partition: one string column (projection `yyyy/MM/dd` and the like), or year/month/day columns. */
  readonly date?: { readonly kind: 'single'; readonly column: string; readonly format: string } | { readonly kind: 'ymd'; readonly year: string; readonly month: string; readonly day: string };
  readonly region?: string;
  readonly account?: string;
  /** Partition keys trailhound does not know how to constrain. */
  readonly others: readonly string[];
}

/** Where the CloudTrail table lives and what it holds. */
export interface AthenaTable {
  readonly catalog: string;
  readonly database: string;
  readonly table: string;
  /** Lower-case column names (partition keys included). */
  readonly columns: readonly string[];
  readonly partitioning: Partitioning;
}

/** What a query over the table must be limited to: the same Scope an ingest or a pivot takes. */
export type Window = Scope;

const DATE_FORMAT = /^yyyy([^A-Za-z]MM([^A-Za-z]dd([^A-Za-z]HH)?)?)?$/;

/**
 * Reads the partitioning from the table's partition keys and parameters (as Glue returns
 * them): `timestamp`/`dt`/`date`/`day` with `projection.<key>.format`, or year/month/day;
 * `region`; `account`/`accountid`.
 */
export function partitioningFrom(keys: readonly string[], parameters: Readonly<Record<string, string>> = {}): Partitioning {
  const names = keys.map((k) => k.toLowerCase());
  const has = (n: string) => names.includes(n);
  let date: Partitioning['date'];
  const used = new Set<string>();
  if (has('year') && has('month') && has('day')) {
    date = { kind: 'ymd', year: 'year', month: 'month', day: 'day' };
    ['year', 'month', 'day'].forEach((n) => used.add(n));
  } else {
    const column = ['timestamp', 'dt', 'date', 'day'].find(has);
    if (column) {
      const format = parameters[`projection.${column}.format`] ?? 'yyyy/MM/dd';
      if (DATE_FORMAT.test(format)) {
        date = { kind: 'single', column, format };
        used.add(column);
      }
    }
  }
  const region = ['region', 'awsregion'].find(has);
  const account = ['account', 'accountid', 'account_id'].find(has);
  if (region) used.add(region);
  if (account) used.add(account);
  return {
    ...(date ? { date } : {}),
    ...(region ? { region } : {}),
    ...(account ? { account } : {}),
    others: names.filter((n) => !used.has(n)),
  };
}

/** Formats `time` (UTC) with a projection date format such as `yyyy/MM/dd`. */
export function formatPartitionDate(time: Date, format: string): string {
  const iso = time.toISOString();
  return format.replace('yyyy', iso.slice(0, 4)).replace('MM', iso.slice(5, 7)).replace('dd', iso.slice(8, 10)).replace('HH', iso.slice(11, 13));
}

/** Which partitions a window constrains. */
export interface Constraint {
  /** Predicates on partition columns, to AND together. */
  readonly predicates: readonly string[];
  /** True when the date partitions are bounded below (a window start was given and the table has a date partition). */
  readonly dateBounded: boolean;
  readonly regionBounded: boolean;
  readonly accountBounded: boolean;
}

/** Checks region and account values before they go into SQL text. */
export function checkWindow(window: Window): void {
  for (const region of window.regions ?? []) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region ${region} is not a region name such as us-east-1`);
  }
  for (const account of window.accounts ?? []) {
    if (!/^\d{12}$/.test(account)) throw new UsageError(`--account ${account} is not a 12-digit AWS account id`);
  }
}

/** The partition predicates for a window: date range, regions, accounts. */
export function partitionConstraint(p: Partitioning, window: Window): Constraint {
  checkWindow(window);
  const predicates: string[] = [];
  const last = window.until ? new Date(window.until.getTime() - 1) : undefined;
  if (p.date?.kind === 'single') {
    const col = sqlIdentifier(p.date.column);
    if (window.since) predicates.push(`${col} >= ${sqlString(formatPartitionDate(window.since, p.date.format))}`);
    if (last) predicates.push(`${col} <= ${sqlString(formatPartitionDate(last, p.date.format))}`);
  } else if (p.date?.kind === 'ymd') {
    const cols = [p.date.year, p.date.month, p.date.day].map(sqlIdentifier);
    const parts = (t: Date) => [t.toISOString().slice(0, 4), t.toISOString().slice(5, 7), t.toISOString().slice(8, 10)];
    if (window.since) predicates.push(tupleCompare(cols, parts(window.since), '>'));
    if (last) predicates.push(tupleCompare(cols, parts(last), '<'));
  }
  if (p.region && window.regions?.length) predicates.push(`${sqlIdentifier(p.region)} in (${window.regions.map(sqlString).join(', ')})`);
  if (p.account && window.accounts?.length) predicates.push(`${sqlIdentifier(p.account)} in (${window.accounts.map(sqlString).join(', ')})`);
  return {
    predicates,
    dateBounded: p.date !== undefined && window.since !== undefined,
    regionBounded: p.region !== undefined && (window.regions?.length ?? 0) > 0,
    accountBounded: p.account !== undefined && (window.accounts?.length ?? 0) > 0,
  };
}

/** (a, b, c) >= (x, y, z) (or <=) spelled out, which every partition pruner understands. */
function tupleCompare(cols: readonly string[], values: readonly string[], op: '>' | '<'): string {
  const [col, ...restCols] = cols;
  const [value, ...restValues] = values;
  if (restCols.length === 0) return `${col} ${op}= ${sqlString(value!)}`;
  return `(${col} ${op} ${sqlString(value!)} or (${col} = ${sqlString(value!)} and ${tupleCompare(restCols, restValues, op)}))`;
}

/** The table's name as SQL: "catalog"."database"."table". */
export function tableName(table: AthenaTable): string {
  const part = (name: string, what: string) => {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new UsageError(`${what} "${name}" is not a plain name (letters, digits, _ and -)`);
    return `"${name.toLowerCase()}"`;
  };
  return `${part(table.catalog, 'the Athena catalog')}.${part(table.database, '--athena-database')}.${part(table.table, '--athena-table')}`;
}

/** Columns every CloudTrail table has; without them trailhound cannot work. */
export const REQUIRED_COLUMNS = ['eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent', 'errorcode', 'errormessage', 'requestparameters', 'responseelements', 'requestid', 'eventid', 'eventtype', 'recipientaccountid'];

/** The Trino expression of each column of trailhound's `events`, over the CloudTrail table. */
export function eventColumns(table: AthenaTable): ReadonlyArray<readonly [string, string]> {
  const missing = REQUIRED_COLUMNS.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) throw new UsageError(`${table.database}.${table.table} lacks ${missing.join(', ')}; is it a CloudTrail table? "trailhound athena ddl" prints one`);
  return athenaProjection(table.columns);
}

/** An instant as a Trino timestamp expression. */
export function timestampLiteral(time: Date): string {
  return `from_iso8601_timestamp(${sqlString(time.toISOString())})`;
}

/**
 * The body of the `events` WITH item: trailhound's columns over the CloudTrail table,
 * limited to the window's partitions and then to the window itself. `extra` adds columns
 * (name, Trino expression) read in the same scan.
 */
export function eventsRelation(table: AthenaTable, window: Window, extra: ReadonlyArray<readonly [string, string]> = []): { sql: string; constraint: Constraint } {
  const constraint = partitionConstraint(table.partitioning, window);
  const where = [...constraint.predicates];
  if (window.since) where.push(`try(from_iso8601_timestamp(eventtime)) >= ${timestampLiteral(window.since)}`);
  if (window.until) where.push(`try(from_iso8601_timestamp(eventtime)) < ${timestampLiteral(window.until)}`);
  if (window.regions?.length) where.push(`awsregion in (${window.regions.map(sqlString).join(', ')})`);
  if (window.accounts?.length) where.push(`recipientaccountid in (${window.accounts.map(sqlString).join(', ')})`);
  const sql = `select
    ${[...eventColumns(table), ...extra].map(([name, expr]) => `${expr} as ${name}`).join(',\n    ')}
  from ${tableName(table)}${where.length ? `\n  where ${where.join('\n    and ')}` : ''}`;
  return { sql, constraint };
}
