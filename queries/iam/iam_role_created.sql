select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.roleName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'role ' || coalesce(json_extract_string(requestparameters, '$.roleName'), '?') || ' created' || case when json_extract_string(requestparameters, '$.assumeRolePolicyDocument') like '%"AWS"%' then ' (trusts an AWS principal)' else '' end as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname = 'CreateRole'
