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
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.bucketName'), '?') as summary
from events
where eventsource = 's3.amazonaws.com'
  and eventname in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'PutBucketVersioning')
  and (eventname <> 'PutBucketVersioning' or json_extract(requestparameters, '$.VersioningConfiguration')::varchar like '%Suspended%')
