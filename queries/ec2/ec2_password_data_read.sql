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
  'password data read for ' || coalesce(json_extract_string(requestparameters, '$.instanceId'), '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'GetPasswordData'
