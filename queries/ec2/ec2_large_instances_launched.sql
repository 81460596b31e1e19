select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.instanceType') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  case when errorcode is null then 'launched ' else 'launch refused (' || errorcode || '): ' end
    || coalesce(json_extract_string(requestparameters, '$.instancesSet.items[0].maxCount'), '1') || ' x '
    || json_extract_string(requestparameters, '$.instanceType') || ' in ' || coalesce(awsregion, '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'RunInstances'
  and regexp_matches(coalesce(json_extract_string(requestparameters, '$.instanceType'), ''), '^(p\d|g\d|inf\d|trn\d|dl\d|vt\d|f\d)|\.(\d{2,}xlarge|[89]xlarge|metal)')
