select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  minted_key_id as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' by ' || coalesce(access_key_id, '?') || ' minted '
    || coalesce(minted_key_id, 'no key (' || coalesce(errorcode, '?') || ')') as summary
from events
where eventsource = 'sts.amazonaws.com'
  and eventname in ('GetSessionToken', 'GetFederationToken')
