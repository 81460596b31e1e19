select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  principal_arn as resource,
  case when errorcode is null and coalesce(json_extract_string(responseelements, '$.ConsoleLogin'), 'Success') = 'Success' then 'success' else 'attempt' end as outcome,
  'root console sign-in from ' || coalesce(sourceipaddress, '?') || case when errorcode is null and coalesce(json_extract_string(responseelements, '$.ConsoleLogin'), 'Success') = 'Success' then '' else ' (failed)' end as summary
from events
where eventsource = 'signin.amazonaws.com'
  and eventname = 'ConsoleLogin'
  and useridentity_type = 'Root'
