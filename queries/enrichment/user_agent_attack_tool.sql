-- Calls made with an offensive tool's user agent or from a penetration-testing OS, one finding
-- per identity and agent. user_agent_info is filled by detect from queries/user-agents.yml.
with hits as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    e.useragent,
    u.class
  from events e
  join user_agent_info u on u.useragent = e.useragent
  where u.class in ('offensive-tool', 'attack-os')
),
grouped as (
  select
    actor,
    access_key_id,
    useragent,
    class,
    min(eventtime) as first,
    count(*) as calls,
    count(distinct eventname) as names,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(eventname, eventtime) as eventname,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from hits
  group by actor, access_key_id, useragent, class
)
select
  first as eventtime,
  eventids[1] as eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  coalesce(access_key_id, actor) as resource,
  'success' as outcome,
  cast(calls as varchar) || ' calls (' || cast(names as varchar) || ' different APIs) with '
    || case when class = 'attack-os' then 'a penetration-testing OS in the user agent: ' else 'an offensive tool''s user agent: ' end
    || left(useragent, 160) as summary,
  eventids
from grouped
