with failures as (
  select
    eventtime,
    eventid,
    recipientaccountid,
    awsregion,
    sourceipaddress,
    coalesce(user_name, principal_arn, 'unknown user') as target
  from events
  where eventsource = 'signin.amazonaws.com'
    and eventname = 'ConsoleLogin'
    and (json_extract_string(responseelements, '$.ConsoleLogin') = 'Failure' or errormessage = 'Failed authentication')
    and sourceipaddress is not null
),
hours as (
  select
    sourceipaddress,
    recipientaccountid as account,
    date_trunc('hour', eventtime) as hour,
    count(distinct target) as users,
    count(*) as failed,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    (list(awsregion order by eventtime, eventid))[1] as region
  from failures
  group by sourceipaddress, recipientaccountid, date_trunc('hour', eventtime)
  having count(distinct target) >= {{distinct_users}}
)
select
  first as eventtime,
  eventids[1] as eventid,
  'ConsoleLogin' as eventname,
  sourceipaddress as actor,
  null::varchar as access_key_id,
  sourceipaddress,
  account,
  region,
  account as resource,
  'attempt' as outcome,
  sourceipaddress || ' failed console sign-ins as ' || cast(users as varchar) || ' different users within an hour (' || cast(failed as varchar) || ' attempts)' as summary,
  eventids
from hours
