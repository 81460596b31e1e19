with assumptions as (
  select
    json_extract_string(requestparameters, '$.roleArn') as role,
    coalesce(principal_arn, invoked_by, useridentity_type) as caller,
    min(eventtime) as first,
    arg_min(eventid, eventtime) as eventid,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region,
    count(*) as calls
  from events
  where eventsource = 'sts.amazonaws.com'
    and eventname = 'AssumeRole'
    and errorcode is null
    and useridentity_type <> 'AWSService'
  group by json_extract_string(requestparameters, '$.roleArn'), coalesce(principal_arn, invoked_by, useridentity_type)
),
roles as (
  select role, min(first) as role_first
  from assumptions
  group by role
)
select
  a.first as eventtime,
  a.eventid,
  'AssumeRole' as eventname,
  a.caller as actor,
  a.access_key_id,
  a.sourceipaddress,
  a.account,
  a.region,
  a.role as resource,
  'success' as outcome,
  a.caller || ' assumed ' || a.role || ' for the first time (' || cast(a.calls as varchar) || ' times), '
    || cast(date_diff('day', r.role_first, a.first) as varchar) || ' days after the role was first assumed by others' as summary
from assumptions a
join roles r on r.role = a.role
where a.first > r.role_first + interval 1 day
