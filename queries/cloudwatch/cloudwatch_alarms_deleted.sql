select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract(requestparameters, '$.alarmNames')::varchar as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' ' || coalesce(json_extract(requestparameters, '$.alarmNames')::varchar, '?') as summary
from events
where eventsource = 'monitoring.amazonaws.com'
  and eventname in ('DeleteAlarms', 'DisableAlarmActions')
