select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.name'), json_extract_string(requestparameters, '$.trailName')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' on trail ' || coalesce(json_extract_string(requestparameters, '$.name'), json_extract_string(requestparameters, '$.trailName'), '?') || case when errorcode is null then '' else ' refused (' || errorcode || ')' end as summary
from events
where eventsource = 'cloudtrail.amazonaws.com'
  and eventname in ('UpdateTrail', 'PutEventSelectors', 'PutAdvancedEventSelectors')
