select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.tableArn')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'export of ' || coalesce(json_extract_string(requestparameters, '$.tableArn'), '?') || ' to ' || coalesce(json_extract_string(requestparameters, '$.s3Bucket'), '?') as summary
from events
where eventsource = 'dynamodb.amazonaws.com'
  and eventname = 'ExportTableToPointInTime'
