with reads as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(access_key_id, principal_arn) as who,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    coalesce(json_extract_string(requestparameters, '$.name'), json_extract_string(requestparameters, '$.path'), json_extract(requestparameters, '$.names')::varchar) as what,
    coalesce(json_array_length(json_extract(requestparameters, '$.names')), 1) as parameters,
    case when errorcode is null then 1 else 0 end as ok,
    -- The first call by time, then event id: the same pick on every engine.
    strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ') || coalesce(eventid, '') as ord
  from events
  where eventsource = 'ssm.amazonaws.com'
    and eventname in ('GetParameter', 'GetParameters', 'GetParametersByPath')
    and json_extract_string(requestparameters, '$.withDecryption') = 'true'
),
-- One row per principal, address and clock hour: a bulk read is one finding, not one per call.
hours as (
  select
    who,
    sourceipaddress,
    date_trunc('hour', eventtime) as hour,
    sum(parameters) as parameters,
    count(*) as calls,
    sum(ok) as succeeded,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(eventname, ord) as eventname,
    arg_min(what, ord) as what,
    arg_min(actor, ord) as actor,
    arg_min(access_key_id, ord) as access_key_id,
    arg_min(recipientaccountid, ord) as account,
    arg_min(awsregion, ord) as region
  from reads
  group by who, sourceipaddress, date_trunc('hour', eventtime)
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
  who as resource,
  case when succeeded > 0 then 'success' else 'attempt' end as outcome,
  case when parameters >= {{parameters}} then cast(parameters as varchar) || ' SecureString parameters read with decryption in ' || cast(calls as varchar) || ' call(s) within the hour, first ' || coalesce(what, '?')
       else eventname || ' with decryption: ' || coalesce(what, '?') || case when calls > 1 then ' and ' || cast(calls - 1 as varchar) || ' more call(s) within the hour' else '' end end as summary,
  eventids,
  case when parameters >= {{parameters}} then 'medium' else 'low' end as severity
from hours
