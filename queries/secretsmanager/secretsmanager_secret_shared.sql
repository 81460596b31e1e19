select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.secretId')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'resource policy set on secret ' || coalesce(json_extract_string(requestparameters, '$.secretId'), '?') as summary
from events
where eventsource = 'secretsmanager.amazonaws.com'
  and eventname = 'PutResourcePolicy'
