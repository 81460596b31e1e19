select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.configurationRecorderName'), json_extract_string(requestparameters, '$.deliveryChannelName')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' ' || coalesce(json_extract_string(requestparameters, '$.configurationRecorderName'), json_extract_string(requestparameters, '$.deliveryChannelName'), '?') || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'config.amazonaws.com'
  and eventname in ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel')
