select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.name') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'trail ' || coalesce(json_extract_string(requestparameters, '$.name'), '?') || case when errorcode is null then ' deleted' else ' delete refused (' || errorcode || ')' end as summary
from events
where eventsource = 'cloudtrail.amazonaws.com'
  and eventname = 'DeleteTrail'
