select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.dBInstanceIdentifier'), json_extract_string(requestparameters, '$.dBClusterIdentifier')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' ' || coalesce(json_extract_string(requestparameters, '$.dBInstanceIdentifier'), json_extract_string(requestparameters, '$.dBClusterIdentifier'), '?') as summary
from events
where eventsource = 'rds.amazonaws.com'
  and eventname in ('ModifyDBInstance', 'ModifyDBCluster')
  and (json_extract(requestparameters, '$.masterUserPassword') is not null or json_extract_string(requestparameters, '$.publiclyAccessible') = 'true')
