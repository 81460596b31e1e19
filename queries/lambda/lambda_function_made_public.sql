select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.functionName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.functionName'), '?') || ' (open to everyone)' as summary
from events
where eventsource = 'lambda.amazonaws.com'
  and eventname in ('AddPermission20150331v2', 'CreateFunctionUrlConfig')
  and (json_extract_string(requestparameters, '$.principal') = '*' or json_extract_string(requestparameters, '$.authType') = 'NONE')
