with reads as (
  select
    eventtime,
    eventid,
    coalesce(access_key_id, principal_arn) as who,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    json_extract_string(requestparameters, '$.instanceId') as instance
  from events
  where eventsource = 'ec2.amazonaws.com'
    and eventname = 'DescribeInstanceAttribute'
    and json_extract_string(requestparameters, '$.attribute') = 'userData'
    and errorcode is null
),
hours as (
  select
    who,
    date_trunc('hour', eventtime) as hour,
    count(distinct instance) as instances,
    count(distinct awsregion) as regions,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(actor, eventtime) as actor,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from reads
  group by who, date_trunc('hour', eventtime)
  having count(distinct instance) >= 5
)
select
  first as eventtime,
  eventids[1] as eventid,
  'DescribeInstanceAttribute' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  who as resource,
  'success' as outcome,
  'user data read from ' || cast(instances as varchar) || ' instances in ' || cast(regions as varchar) || ' region(s) within the hour' as summary,
  eventids
from hours
