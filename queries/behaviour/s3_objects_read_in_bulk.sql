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
    json_extract_string(requestparameters, '$.bucketName') as bucket
  from events
  where eventsource = 's3.amazonaws.com'
    and eventname = 'GetObject'
    and errorcode is null
    and useridentity_type in ('IAMUser', 'Root', 'FederatedUser')
),
hours as (
  select
    who,
    date_trunc('hour', eventtime) as hour,
    count(*) as objects,
    count(distinct bucket) as buckets,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(actor, eventtime) as actor,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region,
    arg_min(bucket, eventtime) as bucket
  from reads
  group by who, date_trunc('hour', eventtime)
  having count(*) >= 100
)
select
  first as eventtime,
  eventids[1] as eventid,
  'GetObject' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  bucket as resource,
  'success' as outcome,
  cast(objects as varchar) || ' objects read from ' || cast(buckets as varchar) || ' bucket(s) within the hour by a user key' as summary,
  eventids
from hours
