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
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.bucketName'), '?') || ' grants access to everyone' as summary
from events
where eventsource = 's3.amazonaws.com'
  and eventname in ('PutBucketAcl', 'PutObjectAcl')
  and (json_extract(requestparameters, '$.AccessControlPolicy')::varchar like '%global/AllUsers%' or json_extract(requestparameters, '$.AccessControlPolicy')::varchar like '%global/AuthenticatedUsers%' or json_extract(requestparameters, '$.x-amz-acl')::varchar like '%public-read%')
