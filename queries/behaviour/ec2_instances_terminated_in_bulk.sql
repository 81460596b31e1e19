with terminations as (
  select
    eventtime,
    eventid,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    coalesce(json_array_length(json_extract(requestparameters, '$.instancesSet.items')), 1) as instances
  from events
  where eventsource = 'ec2.amazonaws.com'
    and eventname = 'TerminateInstances'
    and errorcode is null
    and useridentity_type <> 'AWSService'
),
hours as (
  select
    actor,
    date_trunc('hour', eventtime) as hour,
    sum(instances) as instances,
    count(distinct awsregion) as regions,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from terminations
  group by actor, date_trunc('hour', eventtime)
  having sum(instances) >= 10
)
select
  first as eventtime,
  eventids[1] as eventid,
  'TerminateInstances' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  actor as resource,
  'success' as outcome,
  cast(instances as varchar) || ' instances terminated within the hour in ' || cast(regions as varchar) || ' region(s)' as summary,
  eventids
from hours
