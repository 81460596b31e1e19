select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.name'), json_extract_string(requestparameters, '$.path'), json_extract(requestparameters, '$.names')::varchar) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' with decryption: ' || coalesce(json_extract_string(requestparameters, '$.name'), json_extract_string(requestparameters, '$.path'), json_extract(requestparameters, '$.names')::varchar, '?') as summary
from events
where eventsource = 'ssm.amazonaws.com'
  and eventname in ('GetParameter', 'GetParameters', 'GetParametersByPath')
  and json_extract_string(requestparameters, '$.withDecryption') = 'true'
