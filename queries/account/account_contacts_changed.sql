select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.AlternateContactType')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' ' || coalesce(json_extract_string(requestparameters, '$.AlternateContactType'), '?') as summary
from events
where eventsource = 'account.amazonaws.com'
  and eventname in ('PutAlternateContact', 'DeleteAlternateContact', 'PutContactInformation')
