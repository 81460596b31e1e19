-- An IAM user or root acting from a hosting provider's network (queries/networks.yml):
-- people work from homes and offices; rented servers and VPN exits are where stolen keys go.
with hits as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    e.principal_arn,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    a.hosting,
    a.country
  from events e
  join address_info a on a.address = e.sourceipaddress
  where a.hosting is not null
    and not a.aws_owned
    and e.useridentity_type in ('IAMUser', 'Root')
),
grouped as (
  select
    principal_arn,
    sourceipaddress,
    hosting,
    country,
    min(eventtime) as first,
    count(*) as calls,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(eventname, eventtime) as eventname,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from hits
  group by principal_arn, sourceipaddress, hosting, country
)
select
  first as eventtime,
  eventids[1] as eventid,
  eventname,
  principal_arn as actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  principal_arn as resource,
  'success' as outcome,
  principal_arn || ' acted from ' || sourceipaddress || ', a hosting network (' || hosting || coalesce(', ' || country, '') || '): '
    || cast(calls as varchar) || ' calls' as summary,
  eventids
from grouped
