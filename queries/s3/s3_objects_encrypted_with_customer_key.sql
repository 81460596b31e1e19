with writes as (
  select
    eventtime,
    eventid,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    json_extract_string(requestparameters, '$.bucketName') as bucket
  from events
  where eventsource = 's3.amazonaws.com'
    and eventname in ('PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart')
    and errorcode is null
    -- SSE-C: the key comes with the request and AWS keeps only its hash; without it nobody reads the object.
    -- S3 takes an SSE-C write only with this header, and CloudTrail logs it in the request (additionalEventData's
    -- SSEApplied says the same, but reading it means reading the record of every write: a second per million events).
    and json_extract_string(requestparameters, '$.x-amz-server-side-encryption-customer-algorithm') is not null
),
hours as (
  select
    actor,
    bucket,
    date_trunc('hour', eventtime) as hour,
    count(*) as objects,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    (list(access_key_id order by eventtime, eventid))[1] as access_key_id,
    (list(sourceipaddress order by eventtime, eventid))[1] as sourceipaddress,
    (list(recipientaccountid order by eventtime, eventid))[1] as account,
    (list(awsregion order by eventtime, eventid))[1] as region
  from writes
  group by actor, bucket, date_trunc('hour', eventtime)
  having count(*) >= {{objects_rewritten}}
)
select
  first as eventtime,
  eventids[1] as eventid,
  'PutObject' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  bucket as resource,
  'success' as outcome,
  cast(objects as varchar) || ' objects written to ' || coalesce(bucket, '?') || ' with a customer-provided key (SSE-C) within an hour' as summary,
  eventids
from hours
