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
  'function ' || coalesce(json_extract_string(requestparameters, '$.functionName'), '?') || ' created with role ' || coalesce(json_extract_string(requestparameters, '$.role'), '?') as summary
from events
where eventsource = 'lambda.amazonaws.com'
  and eventname = 'CreateFunction20150331'
