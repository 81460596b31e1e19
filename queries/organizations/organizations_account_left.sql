select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  recipientaccountid as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'account ' || coalesce(recipientaccountid, '?') || case when errorcode is null then ' left its organization' else ' tried to leave its organization (' || errorcode || ')' end as summary
from events
where eventsource = 'organizations.amazonaws.com'
  and eventname = 'LeaveOrganization'
