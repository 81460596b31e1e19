with denied as (
  select
    eventtime,
    eventid,
    eventsource,
    access_key_id,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    sourceipaddress,
    recipientaccountid,
    awsregion
  from events
  where errorcode is not null
    and access_key_id is not null
    and errorcode in ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'UnauthorizedAccess')
),
hours as (
  select
    access_key_id,
    date_trunc('hour', eventtime) as hour,
    count(*) as denied,
    count(distinct eventsource) as services,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(actor, eventtime) as actor,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from denied
  group by access_key_id, date_trunc('hour', eventtime)
  having count(*) >= {{denied_calls}}
)
select
  first as eventtime,
  eventids[1] as eventid,
  'AccessDenied' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  access_key_id as resource,
  'attempt' as outcome,
  cast(denied as varchar) || ' calls denied in one hour across ' || cast(services as varchar) || ' services for key ' || access_key_id as summary,
  eventids
from hours
