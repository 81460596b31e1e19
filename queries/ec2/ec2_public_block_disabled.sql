select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  awsregion as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname in ('DisableImageBlockPublicAccess', 'DisableSnapshotBlockPublicAccess')
