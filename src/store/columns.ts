/**
 * The event schema, written once. Every column of trailhound's `events` is listed here with the
 * record field it comes from; the segment DDL, the load projection (and the shape DuckDB parses
 * each record into), the `events` view and the Athena relation are all generated from this
 * list, and the row mappers are typed by its names, so a column added or renamed here reaches
 * every engine or fails to compile.
 *
 * A column is either stored beside the record (those that pivots and detections filter on, so
 * DuckDB prunes by them without parsing JSON) or derived from the record when it is read.
 * Released migrations do not read this list: they are frozen text (store/migrations.ts), and
 * segments are combined by name, so a store written by an older release still reads.
 */

/** How a column is typed and read out of the record. */
export type ColumnKind = 'text' | 'time' | 'boolean' | 'json';

export interface EventColumn {
  readonly name: string;
  /** The record field, as its keys from the top (`['userIdentity', 'arn']`). */
  readonly path: readonly string[];
  readonly kind: ColumnKind;
  /** Stored in the segment tables; otherwise derived from `record` by the `events` view. */
  readonly stored: boolean;
  /** The DuckDB load expression over the parsed shape `s`, when it is not the plain field. */
  readonly load?: string;
  /** Other record fields the load expression reads (dotted paths), parsed with the column's own. */
  readonly loadAlso?: readonly string[];
  /** The DuckDB expression over `record`, when it is not read from the record by path (a stored column's is what a segment without it reads). */
  readonly view?: string;
  /**
   * The Trino expression over Athena's CloudTrail table, when it is not the field's lower-case
   * path; `null`: Athena's table has no such column (the event is read locally for it).
   */
  readonly athena?: string | null;
  /** Missing from older CloudTrail table definitions: NULL on Athena where the table lacks it. */
  readonly athenaOptional?: boolean;
}

function column<const N extends string>(name: N, path: string, kind: ColumnKind, stored: boolean, more: Partial<EventColumn> = {}): EventColumn & { readonly name: N } {
  return { ...more, name, path: path.split('.'), kind, stored };
}

/** Every column of `events`, in the order the view gives them. */
export const EVENT_COLUMNS = [
  // An empty or missing eventID is no identity: such a record is keyed by its content.
  column('eventkey', 'eventID', 'text', true, { load: `coalesce(nullif(s.eventID, ''), 'sha256:' || sha256(r::varchar))`, athena: 'eventid' }),
  column('eventtime', 'eventTime', 'time', true),
  // An Insights event has no eventSource of its own: the service its insight is about is in insightDetails.
  column('eventsource', 'eventSource', 'text', true, { load: 'coalesce(s.eventSource, s.insightDetails.eventSource)', loadAlso: ['insightDetails.eventSource'] }),
  column('eventname', 'eventName', 'text', true),
  column('awsregion', 'awsRegion', 'text', true),
  column('sourceipaddress', 'sourceIPAddress', 'text', true),
  column('useragent', 'userAgent', 'text', true),
  column('errorcode', 'errorCode', 'text', true),
  column('readonly', 'readOnly', 'boolean', true, { athenaOptional: true }),
  column('recipientaccountid', 'recipientAccountId', 'text', true),
  column('sharedeventid', 'sharedEventID', 'text', true, { athenaOptional: true }),
  column('useridentity_type', 'userIdentity.type', 'text', true),
  column('principal_arn', 'userIdentity.arn', 'text', true),
  column('access_key_id', 'userIdentity.accessKeyId', 'text', true, { load: `nullif(s.userIdentity.accessKeyId, '')`, athena: `nullif(useridentity.accesskeyid, '')` }),
  column('user_name', 'userIdentity.userName', 'text', true),
  column('session_issuer_arn', 'userIdentity.sessionContext.sessionIssuer.arn', 'text', true),
  // Stored because detections name the actor as coalesce(principal_arn, invoked_by, …): derived, it parsed every record they read.
  column('invoked_by', 'userIdentity.invokedBy', 'text', true),
  // Stored so that a key's events can be read without their records (analyze, for every event).
  column('principal_account', 'userIdentity.accountId', 'text', true),
  // Stored because detections (VPC endpoint calls, Sigma rules on eventType) filter on them, and
  // these few values cost next to nothing stored: derived, such a filter parsed every record.
  column('eventtype', 'eventType', 'text', true),
  column('vpcendpointid', 'vpcEndpointId', 'text', true, { athenaOptional: true }),
  column('eventcategory', 'eventCategory', 'text', true, { athenaOptional: true }),
  // Stored (compressed apart; about a thirteenth of the record's bytes) because most detections
  // filter on it: read out of the record, every such detection decompressed whole records.
  column('requestparameters', 'requestParameters', 'json', true),
  // The access key the call handed out (an STS session's, or a user's new long-term key). Stored
  // because following a session key to the call that minted it, and the detections that name it,
  // read it: out of the record, every STS call's record was read (11.6 s, 2.1 GiB on 10M events).
  column('minted_key_id', 'responseElements.credentials.accessKeyId', 'text', true, {
    load: 'coalesce(s.responseElements.credentials.accessKeyId, s.responseElements.accessKey.accessKeyId)',
    loadAlso: ['responseElements.accessKey.accessKeyId'],
    view: `coalesce(json_extract_string(record, '$.responseElements.credentials.accessKeyId'), json_extract_string(record, '$.responseElements.accessKey.accessKeyId'))`,
    athena: `coalesce(json_extract_scalar(responseelements, '$.credentials.accessKeyId'), json_extract_scalar(responseelements, '$.accessKey.accessKeyId'))`,
  }),
  column('eventid', 'eventID', 'text', false, { view: `if(starts_with(eventkey, 'sha256:'), null, eventkey)` }),
  column('eventversion', 'eventVersion', 'text', false),
  column('errormessage', 'errorMessage', 'text', false),
  column('requestid', 'requestID', 'text', false),
  column('apiversion', 'apiVersion', 'text', false, { athenaOptional: true }),
  column('managementevent', 'managementEvent', 'boolean', false, { athenaOptional: true }),
  column('sessioncredentialfromconsole', 'sessionCredentialFromConsole', 'text', false, { athenaOptional: true }),
  column('principal_id', 'userIdentity.principalId', 'text', false),
  column('session_issuer_name', 'userIdentity.sessionContext.sessionIssuer.userName', 'text', false),
  // Athena's table holds userIdentity as a struct of its own shape, not the record's JSON.
  column('useridentity', 'userIdentity', 'json', false, { athena: null }),
  column('responseelements', 'responseElements', 'json', false),
  column('additionaleventdata', 'additionalEventData', 'json', false, { athenaOptional: true }),
  column('resources', 'resources', 'json', false, { athena: null }),
  column('serviceeventdetails', 'serviceEventDetails', 'json', false, { athenaOptional: true }),
  column('tlsdetails', 'tlsDetails', 'json', false, { athena: null }),
] as const;

/** The name of a column of `events`. */
export type EventColumnName = (typeof EVENT_COLUMNS)[number]['name'];

/**
 * How a segment stores the original record: zstd (about a fifth of the size) where the store
 * file's format has it, else fsst (stores created before the compressed layout; DuckDB would
 * silently store "zstd" uncompressed in their format).
 */
export type RecordCompression = 'zstd' | 'fsst';

/** The columns a segment table holds after the event's own: where each row came from, and the record itself. */
function provenanceColumns(compression: RecordCompression): string {
  return `
  input_id bigint not null,
  run_id varchar not null,
  record_index integer,
  record json using compression ${compression} not null`;
}

const DUCKDB_TYPE: Record<ColumnKind, string> = { text: 'varchar', time: 'timestamptz', boolean: 'boolean', json: 'json' };

/** The stored columns, in segment order. */
export const STORED_COLUMNS: readonly EventColumn[] = EVENT_COLUMNS.filter((c: EventColumn) => c.stored);

/** The column list of a segment table (the current layout; migrations keep their own frozen copy). */
export function segmentColumnsSql(compression: RecordCompression): string {
  // A nested part is compressed like the record: as text it would be stored about as large as it reads.
  const own = STORED_COLUMNS.map((c) => `  ${c.name} ${DUCKDB_TYPE[c.kind]}${c.kind === 'json' ? ` using compression ${compression}` : ''}${c.name === 'eventkey' ? ' not null' : ''}`);
  return `\n${own.join(',\n')},${provenanceColumns(compression)}`;
}

/**
 * The shape json_transform parses each record into: the fields of the stored columns, all as
 * text (a boolean or time is cast afterwards, so a malformed value is NULL, not a failed load).
 * A nested part is read as JSON (its text, as json_extract writes it).
 */
export function recordShape(): string {
  const shape: Record<string, unknown> = {};
  const add = (path: readonly string[], type = 'VARCHAR') => {
    let node = shape;
    path.forEach((key, i) => {
      if (i === path.length - 1) node[key] = type;
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  };
  for (const c of STORED_COLUMNS) {
    add(c.path, c.kind === 'json' ? 'JSON' : 'VARCHAR');
    for (const other of c.loadAlso ?? []) add(other.split('.'));
  }
  return JSON.stringify(shape);
}

/** The load projection: each stored column's expression over the parsed shape `s` (and the raw record `r`). */
export function loadProjection(): ReadonlyArray<readonly [string, string]> {
  return STORED_COLUMNS.map((c) => {
    if (c.load) return [c.name, c.load] as const;
    // json_transform gives SQL NULL for a JSON null: only then is the record parsed again, to keep it apart from a missing field.
    if (c.kind === 'json') return [c.name, `coalesce(s.${c.path.join('.')}, json_extract(r, ${jsonPath(c.path)}))`] as const;
    const field = `s.${c.path.join('.')}`;
    if (c.kind === 'time') return [c.name, `try_cast(${field} as timestamptz)`] as const;
    if (c.kind === 'boolean') return [c.name, `try_cast(${field} as boolean)`] as const;
    return [c.name, field] as const;
  });
}

/** A JSON path literal for DuckDB's JSON functions. */
function jsonPath(path: readonly string[]): string {
  return `'$.${path.join('.')}'`;
}

/** The derived columns as the `events` view reads them from `record`. */
export function viewProjection(): ReadonlyArray<readonly [string, string]> {
  return (EVENT_COLUMNS as readonly EventColumn[]).filter((c) => !c.stored).map((c) => [c.name, c.view ?? fromRecord(c)] as const);
}

/** A column read out of `record` on query. */
function fromRecord(c: EventColumn): string {
  if (c.kind === 'json') return `json_extract(record, ${jsonPath(c.path)})`;
  const text = `json_extract_string(record, ${jsonPath(c.path)})`;
  if (c.kind === 'boolean') return `try_cast(${text} as boolean)`;
  if (c.kind === 'time') return `try_cast(${text} as timestamptz)`;
  return text;
}

/**
 * The stored columns a segment made by an older release lacks (given its columns), each as
 * read from its records: such a segment reads the same as a new one.
 */
export function missingStoredColumns(present: ReadonlySet<string>): ReadonlyArray<readonly [string, string]> {
  // (Each is read the way the events view reads a column it does not store.)
  return STORED_COLUMNS.filter((c) => !present.has(c.name)).map((c) => [c.name, c.view ?? fromRecord(c)] as const);
}

/** The Trino expression of each column over Athena's CloudTrail table, given the table's columns. */
export function athenaProjection(tableColumns: readonly string[]): ReadonlyArray<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const c of EVENT_COLUMNS as readonly EventColumn[]) {
    if (c.athena === null) continue;
    const top = c.path[0]!.toLowerCase();
    if (c.athenaOptional && !tableColumns.includes(top)) {
      out.push([c.name, c.kind === 'boolean' ? 'cast(null as boolean)' : 'cast(null as varchar)']);
      continue;
    }
    const field = c.path.map((k) => k.toLowerCase()).join('.');
    if (c.athena) out.push([c.name, c.athena]);
    else if (c.kind === 'time') out.push([c.name, `try(from_iso8601_timestamp(${field}))`]);
    // Athena's table types these as strings or booleans depending on its DDL: compare as text.
    else if (c.kind === 'boolean') out.push([c.name, `(lower(cast(${field} as varchar)) = 'true')`]);
    else out.push([c.name, field]);
  }
  return out;
}
