with switches as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    json_extract_string(requestparameters, '$.name') as trail
  from events
  where eventsource = 'cloudtrail.amazonaws.com'
    and eventname in ('StopLogging', 'StartLogging')
    and errorcode is null
),
ordered as (
  select
    *,
    lead(eventtime) over (partition by trail order by eventtime, eventid) as next_time,
    lead(eventname) over (partition by trail order by eventtime, eventid) as next_name,
    lead(eventid) over (partition by trail order by eventtime, eventid) as next_id
  from switches
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
  trail as resource,
  'success' as outcome,
  'trail ' || coalesce(trail, '?') || ' not logging from ' || strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ')
    || case when next_name = 'StartLogging'
            then ' to ' || strftime(next_time, '%Y-%m-%dT%H:%M:%SZ') || ' (' || cast(date_diff('minute', eventtime, next_time) as varchar) || ' minutes unseen)'
            else ' to the end of the evidence (never restarted)' end as summary,
  case when next_name = 'StartLogging' then [eventid, next_id] else [eventid] end as eventids
from ordered
where eventname = 'StopLogging'
