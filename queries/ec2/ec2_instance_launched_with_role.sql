select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.iamInstanceProfile.arn'), json_extract_string(requestparameters, '$.iamInstanceProfile.name')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'instance launched by ' || coalesce(user_name, principal_arn, '?') || ' with instance profile '
    || coalesce(json_extract_string(requestparameters, '$.iamInstanceProfile.arn'), json_extract_string(requestparameters, '$.iamInstanceProfile.name'), '?') || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'RunInstances'
  and json_extract(requestparameters, '$.iamInstanceProfile') is not null
  and useridentity_type in ('IAMUser', 'Root')
