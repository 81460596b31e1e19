with reads as (
  select
    eventtime,
    eventid,
    eventsource,
    access_key_id,
    sourceipaddress,
    awsregion,
    date_trunc('hour', eventtime) as hour
  from events
  where access_key_id is not null
    and readonly
    and useridentity_type in ('IAMUser', 'Root', 'AssumedRole', 'FederatedUser')
    and (eventname like 'List%' or eventname like 'Describe%' or eventname like 'Get%')
    and eventsource not in ('s3.amazonaws.com', 'kms.amazonaws.com', 'sts.amazonaws.com', 'logs.amazonaws.com', 'monitoring.amazonaws.com')
),
bursts as (
  select access_key_id, sourceipaddress, hour
  from reads
  group by access_key_id, sourceipaddress, hour
  having count(distinct eventsource) >= {{services}} and count(*) >= {{calls}}
),
detail as (
  select
    r.access_key_id,
    r.sourceipaddress,
    r.hour,
    count(*) as calls,
    count(distinct r.eventsource) as services,
    count(distinct r.awsregion) as regions,
    min(r.eventtime) as first,
    list(r.eventid order by r.eventtime, r.eventid) as eventids
  from reads r
  join bursts b
    on b.access_key_id = r.access_key_id
    and (b.sourceipaddress = r.sourceipaddress or (b.sourceipaddress is null and r.sourceipaddress is null))
    and b.hour = r.hour
  group by r.access_key_id, r.sourceipaddress, r.hour
)
select
  d.first as eventtime,
  d.eventids[1] as eventid,
  'Discovery' as eventname,
  coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
  d.access_key_id,
  d.sourceipaddress,
  e.recipientaccountid as account,
  e.awsregion as region,
  d.access_key_id as resource,
  'success' as outcome,
  cast(d.calls as varchar) || ' List/Describe/Get calls across ' || cast(d.services as varchar) || ' services and ' || cast(d.regions as varchar) || ' region(s) within the hour from ' || coalesce(d.sourceipaddress, '?') as summary,
  d.eventids
from detail d
join events e on e.eventid = d.eventids[1]
