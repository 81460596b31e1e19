select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.iamRole')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'activation for role ' || coalesce(json_extract_string(requestparameters, '$.iamRole'), '?') as summary
from events
where eventsource = 'ssm.amazonaws.com'
  and eventname = 'CreateActivation'
