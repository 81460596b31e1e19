select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(user_name, principal_arn) as resource,
  'success' as outcome,
  'console sign-in without MFA by ' || coalesce(user_name, principal_arn, '?') || ' from ' || coalesce(sourceipaddress, '?') as summary
from events
where eventsource = 'signin.amazonaws.com'
  and eventname = 'ConsoleLogin'
  and useridentity_type in ('IAMUser', 'Root')
  and json_extract_string(responseelements, '$.ConsoleLogin') = 'Success'
  and json_extract_string(additionaleventdata, '$.MFAUsed') = 'No'
