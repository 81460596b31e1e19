select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.instanceId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' to ' || coalesce(json_extract_string(requestparameters, '$.instanceId'), '?') || ' as ' || coalesce(json_extract_string(requestparameters, '$.instanceOSUser'), '?') as summary
from events
where eventsource = 'ec2-instance-connect.amazonaws.com'
  and eventname in ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey')
