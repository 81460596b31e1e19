select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.modelId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || coalesce(' for ' || json_extract_string(requestparameters, '$.modelId'), '') as summary
from events
where eventsource = 'bedrock.amazonaws.com'
  and eventname in ('PutUseCaseForModelAccess', 'CreateFoundationModelAgreement')
