/**
 * The CREATE TABLE for a trail's bucket, for teams that have no Athena table yet: the
 * CloudTrail columns of the AWS documentation's DDL, with partition projection on account,
 * region and day, so that no partition ever has to be added and trailhound can prune by all three.
 */
import { UsageError } from '../core/errors.js';

/** What the DDL is for. */
export interface DdlOptions {
  /** s3://bucket[/prefix], the trail's destination (the folder that holds AWSLogs/). */
  readonly bucket: string;
  /** Accounts whose logs the trail delivers (12-digit ids). */
  readonly accounts: readonly string[];
  /** Regions to project. */
  readonly regions: readonly string[];
  /** The organization id (o-…) for an organization trail, whose logs sit under AWSLogs/<org-id>/. */
  readonly orgId?: string;
  /** First day to project (UTC). */
  readonly start: Date;
  readonly database: string;
  readonly table: string;
}

/** The CloudTrail columns, as the AWS documentation's table declares them. */
const COLUMNS = `  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<reason: STRING, updatedfields: STRING, originalrequestid: STRING, originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<tlsversion: STRING, ciphersuite: STRING, clienthostheader: STRING>`;

/** Checks the options and returns the S3 prefix that holds the account folders. */
function logsPrefix(options: DdlOptions): string {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[A-Za-z0-9!_.*()\/-]*)?$/.exec(options.bucket);
  if (!m) throw new UsageError(`--bucket ${options.bucket} is not an s3://bucket[/prefix] address`);
  if (options.accounts.length === 0) throw new UsageError('athena ddl needs --account: the accounts whose logs the trail delivers');
  for (const a of options.accounts) if (!/^\d{12}$/.test(a)) throw new UsageError(`--account ${a} is not a 12-digit AWS account id`);
  for (const r of options.regions) if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r)) throw new UsageError(`--region ${r} is not a region name such as us-east-1`);
  if (options.orgId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(options.orgId)) throw new UsageError(`--org-id ${options.orgId} is not an organization id such as o-a1b2c3d4e5`);
  for (const [name, value] of [['--database', options.database], ['--table', options.table]] as const) {
    if (!/^[a-z_][a-z0-9_]*$/.test(value)) throw new UsageError(`${name} ${value} must be lower-case letters, digits and _`);
  }
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  return `s3://${m[1]}${prefix}/AWSLogs/${options.orgId ? `${options.orgId}/` : ''}`;
}

/** The CREATE EXTERNAL TABLE statement with partition projection on account, region and day. */
export function cloudTrailDdl(options: DdlOptions): string {
  const location = logsPrefix(options);
  const start = options.start.toISOString().slice(0, 10).replace(/-/g, '/');
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${options.database}.${options.table} (
${COLUMNS}
)
COMMENT 'CloudTrail logs under ${location}, partitions projected by account, region and day'
PARTITIONED BY (account STRING, region STRING, \`timestamp\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${location}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = '${options.accounts.join(',')}',
  'projection.region.type' = 'enum',
  'projection.region.values' = '${options.regions.join(',')}',
  'projection.timestamp.type' = 'date',
  'projection.timestamp.format' = 'yyyy/MM/dd',
  'projection.timestamp.range' = '${start},NOW',
  'projection.timestamp.interval' = '1',
  'projection.timestamp.interval.unit' = 'DAYS',
  'storage.location.template' = '${location}\${account}/CloudTrail/\${region}/\${timestamp}'
);
`;
}
