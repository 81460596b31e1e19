-- A principal acting from a country it had not acted from before in the evidence.
-- address_info is filled by detect from the offline databases (one row per distinct address).
with located as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    e.principal_arn,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    a.country,
    a.as_org
  from events e
  join address_info a on a.address = e.sourceipaddress
  where a.external
    and not a.aws_owned
    and a.country is not null
    and e.principal_arn is not null
    and e.errorcode is null
),
firsts as (
  select
    principal_arn,
    country,
    min(eventtime) as first,
    count(*) as calls,
    arg_min(eventid, eventtime) as eventid
  from located
  group by principal_arn, country
),
ranked as (
  select
    f.*,
    min(first) over (partition by principal_arn) as principal_first,
    string_agg(country, ', ') over (partition by principal_arn order by first, country rows between unbounded preceding and 1 preceding) as before
  from firsts f
)
select
  r.first as eventtime,
  r.eventid,
  l.eventname,
  r.principal_arn as actor,
  l.access_key_id,
  l.sourceipaddress,
  l.recipientaccountid as account,
  l.awsregion as region,
  r.principal_arn as resource,
  'success' as outcome,
  r.principal_arn || ' acted from ' || r.country || ' (' || l.sourceipaddress || ', ' || coalesce(l.as_org, 'unknown network')
    || ') for the first time (' || cast(r.calls as varchar) || ' calls); before only from ' || r.before as summary
from ranked r
join located l
  on l.eventid = r.eventid
  and l.principal_arn = r.principal_arn
where r.first > r.principal_first
