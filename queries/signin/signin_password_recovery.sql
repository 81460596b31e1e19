select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  principal_arn as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' from ' || coalesce(sourceipaddress, '?') as summary
from events
where eventsource = 'signin.amazonaws.com'
  and eventname in ('PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
