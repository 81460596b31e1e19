select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  eventsource as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'root user called ' || eventname || ' (' || eventsource || ')' || case when access_key_id like 'AKIA%' then ' with a root access key' else '' end as summary
from events
where useridentity_type = 'Root'
  and coalesce(eventtype, 'AwsApiCall') = 'AwsApiCall'
  and invoked_by is null
