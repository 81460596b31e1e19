select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  access_key_id as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' by ' || coalesce(principal_arn, '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname in ('GenerateCredentialReport', 'GetCredentialReport')
