select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.notebookInstanceName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'notebook ' || coalesce(json_extract_string(requestparameters, '$.notebookInstanceName'), '?') || ' (' || coalesce(json_extract_string(requestparameters, '$.instanceType'), '?') || ')' as summary
from events
where eventsource = 'sagemaker.amazonaws.com'
  and eventname = 'CreateNotebookInstance'
