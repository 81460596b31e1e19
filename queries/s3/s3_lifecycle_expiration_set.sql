select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.bucketName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'lifecycle rule that expires objects put on bucket ' || coalesce(json_extract_string(requestparameters, '$.bucketName'), '?') as summary
from events
where eventsource = 's3.amazonaws.com'
  and eventname in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
  -- Expiration (current versions) or NoncurrentVersionExpiration (the versions kept for recovery), in an enabled rule.
  and json_extract(requestparameters, '$.LifecycleConfiguration')::varchar like '%Expiration%'
  and json_extract(requestparameters, '$.LifecycleConfiguration')::varchar like '%"Enabled"%'
