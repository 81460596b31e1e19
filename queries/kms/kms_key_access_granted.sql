select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.keyId')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.keyId'), '?') || coalesce(' for ' || json_extract_string(requestparameters, '$.granteePrincipal'), '') as summary
from events
where eventsource = 'kms.amazonaws.com'
  and eventname in ('PutKeyPolicy', 'CreateGrant')
  and useridentity_type <> 'AWSService' and invoked_by is null
