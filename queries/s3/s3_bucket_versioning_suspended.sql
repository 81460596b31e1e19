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
  'on bucket ' || coalesce(json_extract_string(requestparameters, '$.bucketName'), '?') || ': '
    || case when json_extract_string(requestparameters, '$.VersioningConfiguration.Status') = 'Suspended' then 'versioning suspended' else 'MFA delete turned off' end as summary
from events
where eventsource = 's3.amazonaws.com'
  and eventname = 'PutBucketVersioning'
  and (json_extract_string(requestparameters, '$.VersioningConfiguration.Status') = 'Suspended'
       or json_extract_string(requestparameters, '$.VersioningConfiguration.MfaDelete') = 'Disabled')
