with deactivated as (
  select
    json_extract_string(requestparameters, '$.accessKeyId') as key_id,
    min(eventtime) as deactivated_at
  from events
  where eventsource = 'iam.amazonaws.com'
    and eventname = 'UpdateAccessKey'
    and errorcode is null
    and json_extract_string(requestparameters, '$.status') = 'Inactive'
  group by json_extract_string(requestparameters, '$.accessKeyId')
),
later as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    e.errorcode,
    coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    d.deactivated_at
  from events e
  join deactivated d on e.access_key_id = d.key_id and e.eventtime > d.deactivated_at
),
per_key as (
  select
    access_key_id,
    min(eventtime) as first,
    count(*) as calls,
    count(*) filter (where errorcode is null) as succeeded,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(eventname, eventtime) as eventname,
    arg_min(actor, eventtime) as actor,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region,
    min(deactivated_at) as deactivated_at
  from later
  group by access_key_id
)
select
  first as eventtime,
  eventids[1] as eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  access_key_id as resource,
  case when succeeded > 0 then 'success' else 'attempt' end as outcome,
  cast(calls as varchar) || ' calls with ' || access_key_id || ' after it was deactivated at ' || strftime(deactivated_at, '%Y-%m-%dT%H:%M:%SZ')
    || case when succeeded > 0 then ' (' || cast(succeeded as varchar) || ' succeeded: it was re-activated or the deactivation did not hold)' else ' (all refused)' end as summary,
  eventids
from per_key
