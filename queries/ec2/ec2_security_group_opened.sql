select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.groupId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'ingress from the internet opened on ' || coalesce(json_extract_string(requestparameters, '$.groupId'), '?') || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'AuthorizeSecurityGroupIngress'
  and (json_extract(requestparameters, '$.ipPermissions')::varchar like '%"0.0.0.0/0"%' or json_extract(requestparameters, '$.ipPermissions')::varchar like '%"::/0"%')
