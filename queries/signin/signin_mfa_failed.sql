-- Console sign-ins that passed the password and failed the MFA step (CheckMfa Failure): the
-- password is known to whoever tried. One failure from an address the user signs in from is
-- a mistyped code (low); from an address the user never signed in from it is medium; repeated
-- failures within an hour (codes being guessed, or a push-fatigue attempt) are high.
with failures as (
  select
    eventtime,
    eventid,
    recipientaccountid,
    awsregion,
    sourceipaddress,
    coalesce(user_name, principal_arn, 'unknown user') as target,
    json_extract_string(additionaleventdata, '$.MfaType') as mfa_type
  from events
  where eventsource = 'signin.amazonaws.com'
    and eventname = 'CheckMfa'
    and (json_extract_string(responseelements, '$.CheckMfa') = 'Failure' or errorcode is not null)
),
known as (
  -- Where each user has signed in before: a successful MFA check or console sign-in.
  select distinct coalesce(user_name, principal_arn, 'unknown user') as target, sourceipaddress
  from events
  where eventsource = 'signin.amazonaws.com'
    and eventname in ('CheckMfa', 'ConsoleLogin')
    and errorcode is null
    and coalesce(json_extract_string(responseelements, '$.CheckMfa'), json_extract_string(responseelements, '$.ConsoleLogin')) = 'Success'
),
hours as (
  select
    f.recipientaccountid as account,
    f.target,
    date_trunc('hour', f.eventtime) as hour,
    count(*) as failed,
    count(distinct f.sourceipaddress) as addresses,
    min(f.eventtime) as first,
    list(f.eventid order by f.eventtime, f.eventid) as eventids,
    (list(f.sourceipaddress order by f.eventtime, f.eventid))[1] as sourceipaddress,
    (list(f.awsregion order by f.eventtime, f.eventid))[1] as region,
    (list(f.mfa_type order by f.eventtime, f.eventid))[1] as mfa_type,
    count(*) filter (where k.target is null) as from_new_addresses
  from failures f
  left join known k on k.target = f.target and k.sourceipaddress = f.sourceipaddress
  group by f.recipientaccountid, f.target, date_trunc('hour', f.eventtime)
)
select
  first as eventtime,
  eventids[1] as eventid,
  'CheckMfa' as eventname,
  target as actor,
  null::varchar as access_key_id,
  sourceipaddress,
  account,
  region,
  target as resource,
  'success' as outcome,
  cast(failed as varchar) || ' failed MFA check' || case when failed = 1 then '' else 's' end || ' for ' || target
    || ' within an hour after the right password' || coalesce(' (' || mfa_type || ')', '')
    || ', from ' || cast(addresses as varchar) || ' address' || case when addresses = 1 then '' else 'es' end || ', first ' || coalesce(sourceipaddress, '?')
    || case when from_new_addresses > 0 then ', not an address the user signed in from' else '' end as summary,
  eventids,
  case when failed >= {{repeated_failures}} then 'high' when from_new_addresses > 0 then 'medium' else 'low' end as severity
from hours
