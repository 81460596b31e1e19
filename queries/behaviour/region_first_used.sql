with firsts as (
  select
    recipientaccountid as account,
    awsregion as region,
    min(eventtime) as first,
    count(*) as events
  from events
  where awsregion is not null
  group by recipientaccountid, awsregion
),
history as (
  select account, min(first) as start
  from firsts
  group by account
),
newcomers as (
  select f.account, f.region, f.first, f.events, h.start
  from firsts f
  join history h on h.account is not distinct from f.account
  where f.first > h.start + interval 1 day
)
select
  n.first as eventtime,
  e.eventid,
  e.eventname,
  coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
  e.access_key_id,
  e.sourceipaddress,
  n.account,
  n.region,
  n.region as resource,
  'success' as outcome,
  'first activity in ' || n.region || ' (' || n.events || ' events), ' || date_diff('day', n.start, n.first) || ' days after the evidence starts' as summary
from newcomers n
join events e
  on e.eventtime = n.first
  and e.awsregion = n.region
  and e.recipientaccountid is not distinct from n.account
qualify row_number() over (partition by n.account, n.region order by e.eventid) = 1
