select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract(requestparameters, '$.DeleteFlowLogsRequest')::varchar as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'flow logs deleted in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'DeleteFlowLogs'
