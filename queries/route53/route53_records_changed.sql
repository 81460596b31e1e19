select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.hostedZoneId')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'records changed in zone ' || coalesce(json_extract_string(requestparameters, '$.hostedZoneId'), '?') as summary
from events
where eventsource = 'route53.amazonaws.com'
  and eventname = 'ChangeResourceRecordSets'
