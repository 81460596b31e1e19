with deletions as (
  select
    eventtime,
    eventid,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    json_extract_string(requestparameters, '$.bucketName') as bucket,
    -- DeleteObjects names up to 1,000 keys in one call (delete.Object, one object or a list).
    case when eventname = 'DeleteObjects'
         then greatest(1, coalesce(json_array_length(json_extract(requestparameters, '$.delete.Object')), 1))
         else 1 end as objects
  from events
  where eventsource = 's3.amazonaws.com'
    and eventname in ('DeleteObject', 'DeleteObjects')
    and errorcode is null
),
hours as (
  select
    actor,
    bucket,
    date_trunc('hour', eventtime) as hour,
    sum(objects) as objects,
    count(*) as calls,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    (list(access_key_id order by eventtime, eventid))[1] as access_key_id,
    (list(sourceipaddress order by eventtime, eventid))[1] as sourceipaddress,
    (list(recipientaccountid order by eventtime, eventid))[1] as account,
    (list(awsregion order by eventtime, eventid))[1] as region
  from deletions
  group by actor, bucket, date_trunc('hour', eventtime)
  having sum(objects) >= {{objects_deleted}}
)
select
  first as eventtime,
  eventids[1] as eventid,
  'DeleteObject' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  bucket as resource,
  'success' as outcome,
  cast(objects as varchar) || ' objects deleted from ' || coalesce(bucket, '?') || ' in ' || cast(calls as varchar) || ' calls within an hour' as summary,
  eventids
from hours
