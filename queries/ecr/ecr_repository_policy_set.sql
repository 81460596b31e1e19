select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.repositoryName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'policy set on repository ' || coalesce(json_extract_string(requestparameters, '$.repositoryName'), '?') as summary
from events
where eventsource = 'ecr.amazonaws.com'
  and eventname = 'SetRepositoryPolicy'
