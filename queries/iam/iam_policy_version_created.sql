select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.policyArn') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.policyArn'), '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname in ('CreatePolicyVersion', 'SetDefaultPolicyVersion')
  and (eventname = 'SetDefaultPolicyVersion' or json_extract_string(requestparameters, '$.setAsDefault') = 'true')
