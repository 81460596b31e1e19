select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.userName'), user_name) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'access key ' || coalesce(minted_key_id, '(not created: ' || errorcode || ')')
    || ' for user ' || coalesce(json_extract_string(requestparameters, '$.userName'), user_name, '?')
    || case when json_extract_string(requestparameters, '$.userName') <> user_name then ' (another user)' else '' end as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname = 'CreateAccessKey'
