select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.instanceId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'user data or type changed on ' || coalesce(json_extract_string(requestparameters, '$.instanceId'), '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'ModifyInstanceAttribute'
  and (json_extract(requestparameters, '$.userData') is not null or json_extract(requestparameters, '$.instanceType') is not null or json_extract_string(requestparameters, '$.attribute') in ('userData', 'instanceType'))
