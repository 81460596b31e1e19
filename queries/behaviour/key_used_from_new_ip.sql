with uses as (
  select
    access_key_id,
    sourceipaddress,
    min(eventtime) as first,
    count(*) as calls
  from events
  where access_key_id like 'AKIA%'
    and regexp_matches(sourceipaddress, '^[0-9a-fA-F.:]+$')
  group by access_key_id, sourceipaddress
),
keys as (
  select access_key_id, min(first) as key_first
  from uses
  group by access_key_id
),
newcomers as (
  select u.access_key_id, u.sourceipaddress, u.first, u.calls, k.key_first
  from uses u
  join keys k on k.access_key_id = u.access_key_id
  where u.first > k.key_first + interval 1 day
),
-- Trino has no QUALIFY: pick the first event per newcomer in a subquery.
picked as (
  select
    n.first as eventtime,
    e.eventid,
    e.eventname,
    coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
    n.access_key_id,
    n.sourceipaddress,
    e.recipientaccountid as account,
    e.awsregion as region,
    n.access_key_id as resource,
    'success' as outcome,
    'key ' || n.access_key_id || ' used from ' || n.sourceipaddress || ' for the first time (' || cast(n.calls as varchar) || ' calls), '
      || cast(date_diff('day', n.key_first, n.first) as varchar) || ' days after its first use; first call ' || e.eventname as summary,
    row_number() over (partition by n.access_key_id, n.sourceipaddress order by e.eventid) as pick
  from newcomers n
  join events e
    on e.access_key_id = n.access_key_id
    and e.sourceipaddress = n.sourceipaddress
    and e.eventtime = n.first
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
