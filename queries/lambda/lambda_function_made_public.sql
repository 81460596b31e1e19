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
  -- Lambda writes its API version into some event names (AddPermission20150331v2): match the name's start.
  and (eventname like 'AddPermission%' or eventname like 'CreateFunctionUrlConfig%' or eventname like 'UpdateFunctionUrlConfig%')
  and (json_extract_string(requestparameters, '$.principal') = '*' or coalesce(json_extract_string(requestparameters, '$.authType'), json_extract_string(requestparameters, '$.AuthType')) = 'NONE')
