select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.groupName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'user ' || coalesce(json_extract_string(requestparameters, '$.userName'), '?') || ' added to group ' || coalesce(json_extract_string(requestparameters, '$.groupName'), '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname = 'AddUserToGroup'
