with reads as (
  select
    eventtime,
    eventid,
    coalesce(access_key_id, principal_arn) as who,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    coalesce(json_extract_string(requestparameters, '$.secretId'), json_extract(requestparameters, '$.secretIdList')::varchar, json_extract(requestparameters, '$.filters')::varchar) as secret
  from events
  where eventsource = 'secretsmanager.amazonaws.com'
    and eventname in ('GetSecretValue', 'BatchGetSecretValue')
    and errorcode is null
),
hours as (
  select
    who,
    date_trunc('hour', eventtime) as hour,
    count(distinct secret) as secrets,
    count(*) as calls,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(actor, eventtime) as actor,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from reads
  group by who, date_trunc('hour', eventtime)
  having count(distinct secret) >= 5 or bool_or(secret like '[%' or secret like '{%')
)
select
  first as eventtime,
  eventids[1] as eventid,
  'GetSecretValue' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  who as resource,
  'success' as outcome,
  cast(secrets as varchar) || ' secrets read in ' || cast(calls as varchar) || ' calls within the hour' as summary,
  eventids
from hours
