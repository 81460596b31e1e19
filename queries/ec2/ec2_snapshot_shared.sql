select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.snapshotId'), json_extract_string(requestparameters, '$.imageId')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  coalesce(json_extract_string(requestparameters, '$.snapshotId'), json_extract_string(requestparameters, '$.imageId'), '?') || ' shared with ' || coalesce(json_extract(requestparameters, '$.createVolumePermission.add')::varchar, json_extract(requestparameters, '$.launchPermission.add')::varchar, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname in ('ModifySnapshotAttribute', 'ModifyImageAttribute')
  and coalesce(json_extract(requestparameters, '$.createVolumePermission.add'), json_extract(requestparameters, '$.launchPermission.add')) is not null
