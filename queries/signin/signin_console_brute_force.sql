with failures as (
  select
    eventtime,
    eventid,
    recipientaccountid,
    awsregion,
    sourceipaddress,
    -- A sign-in for a user name that does not exist is recorded with the name hidden.
    coalesce(user_name, principal_arn, 'unknown user') as target
  from events
  where eventsource = 'signin.amazonaws.com'
    and eventname = 'ConsoleLogin'
    and (json_extract_string(responseelements, '$.ConsoleLogin') = 'Failure' or errormessage = 'Failed authentication')
),
hours as (
  select
    recipientaccountid as account,
    target,
    date_trunc('hour', eventtime) as hour,
    count(*) as failed,
    count(distinct sourceipaddress) as addresses,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    (list(sourceipaddress order by eventtime, eventid))[1] as sourceipaddress,
    (list(awsregion order by eventtime, eventid))[1] as region
  from failures
  group by recipientaccountid, target, date_trunc('hour', eventtime)
  having count(*) >= {{failed_sign_ins}}
)
select
  first as eventtime,
  eventids[1] as eventid,
  'ConsoleLogin' as eventname,
  target as actor,
  null::varchar as access_key_id,
  sourceipaddress,
  account,
  region,
  target as resource,
  'attempt' as outcome,
  cast(failed as varchar) || ' failed console sign-ins for ' || target || ' within an hour from ' || cast(addresses as varchar) || ' address(es), first ' || coalesce(sourceipaddress, '?') as summary,
  eventids
from hours
