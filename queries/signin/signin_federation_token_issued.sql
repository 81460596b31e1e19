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
  'console sign-in token for ' || coalesce(principal_arn, '?') as summary
from events
where eventsource = 'signin.amazonaws.com'
  and eventname = 'GetSigninToken'
