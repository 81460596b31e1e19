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
  join history h on (h.account = f.account or (h.account is null and f.account is null))
  where f.first > h.start + interval 1 day
),
-- Trino has no QUALIFY: pick the first event per newcomer in a subquery.
picked as (
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
    'first activity in ' || n.region || ' (' || cast(n.events as varchar) || ' events), ' || cast(date_diff('day', n.start, n.first) as varchar) || ' days after the evidence starts' as summary,
    row_number() over (partition by n.account, n.region order by e.eventid) as pick
  from newcomers n
  join events e
    on e.eventtime = n.first
    and e.awsregion = n.region
    and (e.recipientaccountid = n.account or (e.recipientaccountid is null and n.account is null))
)
select
  eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  resource,
  outcome,
  summary
from picked
where pick = 1
