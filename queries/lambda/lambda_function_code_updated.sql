-- Severity from context: the same principal (the role, for a role session) with the same
-- client made the same call successfully 30 minutes or more before (an earlier apply or
-- deploy): routine, low. The first, one with another client, or a burst keep the severity.
with matched as (
  select eventtime, eventid, eventname, principal_arn, invoked_by, useridentity_type, access_key_id, sourceipaddress, recipientaccountid, awsregion, requestparameters, errorcode, useragent,
         coalesce(session_issuer_arn, principal_arn) as who
  from events
  where eventsource = 'lambda.amazonaws.com'
  and eventname in ('UpdateFunctionCode20150331v2', 'UpdateFunctionConfiguration20150331v2')
),
calls as (
  select *, min(case when errorcode is null then eventtime end) over (partition by who, eventname, useragent) as first_success
  from matched
)
select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.functionName') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' on ' || coalesce(json_extract_string(requestparameters, '$.functionName'), '?') as summary,
  case when errorcode is null and who is not null and eventtime >= first_success + interval '30' minute then 'low' end as severity
from calls
