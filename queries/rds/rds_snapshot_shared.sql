select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.dBSnapshotIdentifier'), json_extract_string(requestparameters, '$.dBClusterSnapshotIdentifier')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  coalesce(json_extract_string(requestparameters, '$.dBSnapshotIdentifier'), json_extract_string(requestparameters, '$.dBClusterSnapshotIdentifier'), '?') || ' shared with ' || coalesce(json_extract(requestparameters, '$.valuesToAdd')::varchar, '?') as summary
from events
where eventsource = 'rds.amazonaws.com'
  and eventname in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
  and json_array_length(json_extract(requestparameters, '$.valuesToAdd')) > 0
