-- The request is read once a launch: a busy account launches hundreds of thousands of instances.
with launches as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    errorcode,
    json_extract_string(requestparameters, '$.instanceType') as instance_type,
    json_extract_string(requestparameters, '$.instancesSet.items[0].maxCount') as max_count
  from events
  where eventsource = 'ec2.amazonaws.com'
    and eventname = 'RunInstances'
)
select
  eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  instance_type as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  case when errorcode is null then 'launched ' else 'launch refused (' || errorcode || '): ' end
    || coalesce(max_count, '1') || ' x ' || instance_type || ' in ' || coalesce(awsregion, '?') as summary
from launches
where regexp_matches(coalesce(instance_type, ''), '^(p\d|g\d|inf\d|trn\d|dl\d|vt\d|f\d)|\.(\d{2,}xlarge|[89]xlarge|metal)')
