select
  e.eventtime,
  e.eventid,
  e.eventname,
  coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
  e.access_key_id,
  e.sourceipaddress,
  e.recipientaccountid as account,
  e.awsregion as region,
  e.eventsource as resource,
  'success' as outcome,
  e.eventname || ' (' || s.tactic || ', ' || s.importance || '): ' || s.why as summary
from events e
join sensitive_events s
  on s.eventsource = e.eventsource
  and s.eventname = e.eventname
where e.errorcode is null
  and not s.covered
  and s.importance <> 'info'
