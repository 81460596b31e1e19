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
  'trust policy of role ' || coalesce(json_extract_string(requestparameters, '$.roleName'), '?') || ' changed' || case when json_extract_string(requestparameters, '$.policyDocument') like '%"AWS":"*"%' or json_extract_string(requestparameters, '$.policyDocument') like '%"Principal":"*"%' then ' (trusts everyone)' else '' end as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname = 'UpdateAssumeRolePolicy'
