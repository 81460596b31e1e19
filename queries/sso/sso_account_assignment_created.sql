select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.targetId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'permission set ' || coalesce(json_extract_string(requestparameters, '$.permissionSetArn'), '?') || ' assigned in account ' || coalesce(json_extract_string(requestparameters, '$.targetId'), '?') as summary
from events
where eventsource = 'sso.amazonaws.com'
  and eventname = 'CreateAccountAssignment'
