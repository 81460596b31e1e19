select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.QuotaCode') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'quota ' || coalesce(json_extract_string(requestparameters, '$.ServiceCode'), '?') || '/' || coalesce(json_extract_string(requestparameters, '$.QuotaCode'), '?') || ' to ' || coalesce(json_extract_string(requestparameters, '$.DesiredValue'), '?') || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'servicequotas.amazonaws.com'
  and eventname = 'RequestServiceQuotaIncrease'
