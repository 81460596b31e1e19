/**
 * Sigma field names (the record's own dotted paths: `eventName`,
 * `userIdentity.sessionContext.sessionIssuer.arn`, `requestParameters.x-amz-acl`) as SQL
 * text expressions over trailhound's `events`, in the SQL subset the dialect layer takes
 * to Athena where it can.
 */
import { sqlString } from '../engines/dialect.js';
import { SigmaUnsupportedError } from './errors.js';

/** A field as SQL: its text, and whether the expression exists only in the local store. */
export interface FieldSql {
  readonly sql: string;
  /** Why the expression has no Athena form (absent when it runs on both engines). */
  readonly duckdbOnly?: string;
}

/** Top-level record keys held as text columns of `events` on both engines. */
const TEXT_COLUMNS: Readonly<Record<string, string>> = {
  eventVersion: 'eventversion',
  eventSource: 'eventsource',
  eventName: 'eventname',
  awsRegion: 'awsregion',
  sourceIPAddress: 'sourceipaddress',
  userAgent: 'useragent',
  errorCode: 'errorcode',
  errorMessage: 'errormessage',
  requestID: 'requestid',
  eventID: 'eventid',
  eventType: 'eventtype',
  apiVersion: 'apiversion',
  recipientAccountId: 'recipientaccountid',
  sharedEventID: 'sharedeventid',
  vpcEndpointId: 'vpcendpointid',
  eventCategory: 'eventcategory',
  sessionCredentialFromConsole: 'sessioncredentialfromconsole',
  'userIdentity.type': 'useridentity_type',
  'userIdentity.arn': 'principal_arn',
  'userIdentity.accessKeyId': 'access_key_id',
  'userIdentity.userName': 'user_name',
  'userIdentity.principalId': 'principal_id',
  'userIdentity.accountId': 'principal_account',
  'userIdentity.invokedBy': 'invoked_by',
  'userIdentity.sessionContext.sessionIssuer.arn': 'session_issuer_arn',
  'userIdentity.sessionContext.sessionIssuer.userName': 'session_issuer_name',
};

/** Top-level keys held as booleans: compared as the text `true` / `false`, as CloudTrail writes them. */
const BOOLEAN_COLUMNS: Readonly<Record<string, string>> = { readOnly: 'readonly', managementEvent: 'managementevent' };

/** Top-level keys held as JSON on both engines (text on Athena, JSON in the store). */
const JSON_COLUMNS: Readonly<Record<string, string>> = {
  requestParameters: 'requestparameters',
  responseElements: 'responseelements',
  additionalEventData: 'additionaleventdata',
  serviceEventDetails: 'serviceeventdetails',
};

/** Top-level keys held as JSON in the store only (Athena's table has them as structs, or not at all). */
const LOCAL_JSON_COLUMNS: Readonly<Record<string, string>> = { userIdentity: 'useridentity', resources: 'resources', tlsDetails: 'tlsdetails' };

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** A JSON path literal for keys below a column, keys with dashes quoted (the dialect layer rewrites them for Trino). */
function pathLiteral(keys: readonly string[]): string {
  return sqlString(`$${keys.map((k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `."${k}"`)).join('')}`);
}

/**
 * The value at `keys` below a JSON column as text: a string or number as itself, a JSON
 * `true` as `true`, an object or array as its JSON text, a JSON null or a missing key as NULL.
 */
function jsonText(column: string, keys: readonly string[]): string {
  const path = pathLiteral(keys);
  return `coalesce(json_extract_string(${column}, ${path}), nullif(json_extract(${column}, ${path})::varchar, 'null'))`;
}

/** The SQL text expression of a Sigma field name. Throws SigmaUnsupportedError for a name it cannot read. */
export function fieldSql(field: string): FieldSql {
  const keys = field.split('.');
  if (keys.some((k) => !KEY.test(k))) throw new SigmaUnsupportedError(`field "${field}" is not a dotted path of plain keys (letters, digits, _ and -)`);
  const text = TEXT_COLUMNS[field];
  if (text) return { sql: text };
  const bool = BOOLEAN_COLUMNS[field];
  if (bool) return { sql: `${bool}::varchar` };
  if (field === 'eventTime') return { sql: `strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ')` };
  const [head, ...rest] = keys as [string, ...string[]];
  const json = JSON_COLUMNS[head];
  if (json) return { sql: jsonText(json, rest) };
  const local = LOCAL_JSON_COLUMNS[head];
  if (local) return { sql: jsonText(local, rest), duckdbOnly: `field ${field} is read from the stored record (Athena's table holds ${head} in another shape)` };
  return { sql: jsonText('record', keys), duckdbOnly: `field ${field} is not a column of Athena's CloudTrail table; it is read from the stored record` };
}

/** The whole record as text, for keyword selections (full-record search); the local store only. */
export const RECORD_TEXT: FieldSql = { sql: 'record::varchar', duckdbOnly: 'a keyword selection searches the whole stored record, which Athena\'s table does not keep' };
