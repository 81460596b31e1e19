select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.detectorId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'GuardDuty detector ' || coalesce(json_extract_string(requestparameters, '$.detectorId'), '?') || case when eventname = 'DeleteDetector' then ' deleted' else ' disabled' end || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'guardduty.amazonaws.com'
  and eventname in ('DeleteDetector', 'UpdateDetector')
  and (eventname = 'DeleteDetector' or json_extract_string(requestparameters, '$.enable') = 'false')
