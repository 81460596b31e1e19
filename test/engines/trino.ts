/** Test helpers about Trino (Athena engine v3): the documented CloudTrail columns and the functions Trino has. */

/** Columns of the CloudTrail table in the AWS documentation's DDL (partition keys aside). */
export const CLOUDTRAIL_COLUMNS = [
  'eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent',
  'errorcode', 'errormessage', 'requestparameters', 'responseelements', 'additionaleventdata', 'requestid', 'eventid',
  'resources', 'eventtype', 'apiversion', 'readonly', 'recipientaccountid', 'serviceeventdetails', 'sharedeventid',
  'vpcendpointid', 'eventcategory', 'tlsdetails', 'sessioncredentialfromconsole',
] as const;

/**
 * Functions of Trino's reference (functions and operators chapter) that trailhound's SQL may
 * call, names as Trino spells them. Anything else in a rendered query fails the render test.
 */
export const TRINO_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregate
  'array_agg', 'avg', 'bool_and', 'bool_or', 'count', 'count_if', 'max', 'max_by', 'min', 'min_by', 'sum',
  // window
  'first_value', 'lag', 'last_value', 'lead', 'rank', 'row_number',
  // conditional, conversion
  'coalesce', 'if', 'nullif', 'try', 'greatest', 'least',
  // string, regexp
  'concat', 'length', 'lower', 'upper', 'replace', 'split_part', 'starts_with', 'strpos', 'substr', 'trim',
  'regexp_extract', 'regexp_extract_all', 'regexp_like', 'regexp_replace',
  // JSON
  'json_array_length', 'json_extract', 'json_extract_scalar', 'json_format',
  // date and time
  'date_diff', 'date_format', 'date_trunc', 'from_iso8601_timestamp', 'to_iso8601', 'to_unixtime',
  // array
  'cardinality', 'contains', 'unnest',
  // math
  'abs', 'round',
]);

/** The lower-case names of every function a node-sql-parser AST calls. */
export function trinoFunctionsOf(ast: unknown): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['type'] === 'function') {
      const name = n['name'] as { name?: Array<{ value: string }> } | string;
      names.add((typeof name === 'string' ? name : (name.name ?? []).map((p) => p.value).join('.')).toLowerCase());
    }
    if (n['type'] === 'aggr_func' && typeof n['name'] === 'string') names.add(n['name'].toLowerCase());
    Object.values(n).forEach(visit);
  };
  visit(ast);
  return [...names].sort();
}
