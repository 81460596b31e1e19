-- Calls through a VPC endpoint (CloudTrail network activity events) that the endpoint's
-- policy denied (VpceAccessDenied), or that were made with another account's credentials:
-- someone inside the network reaching for what the data perimeter keeps out, or using their
-- own account's keys to carry data out through the endpoint. Grouped per endpoint, principal
-- and clock hour. Credentials of an account that is not in the evidence make it high.
with through as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(principal_arn, principal_account, useridentity_type) as who,
    principal_account,
    recipientaccountid,
    access_key_id,
    sourceipaddress,
    awsregion,
    vpcendpointid,
    errorcode
  from events
  where vpcendpointid is not null
    and (eventcategory = 'NetworkActivity' or eventtype = 'AwsVpceEvent')
    and (errorcode = 'VpceAccessDenied' or (principal_account is not null and principal_account <> recipientaccountid))
),
evidence_accounts as (
  select distinct recipientaccountid as account from events where recipientaccountid is not null
),
grouped as (
  select
    t.recipientaccountid as account,
    t.vpcendpointid,
    t.who,
    t.principal_account,
    date_trunc('hour', t.eventtime) as hour,
    count(*) as calls,
    count(*) filter (where t.errorcode = 'VpceAccessDenied') as denied,
    min(t.eventtime) as first,
    list(t.eventid order by t.eventtime, t.eventid) as eventids,
    (list(t.eventname order by t.eventtime, t.eventid))[1] as eventname,
    (list(t.sourceipaddress order by t.eventtime, t.eventid))[1] as sourceipaddress,
    (list(t.awsregion order by t.eventtime, t.eventid))[1] as region,
    (list(t.access_key_id order by t.eventtime, t.eventid))[1] as access_key_id,
    bool_or(t.principal_account is not null and t.principal_account <> t.recipientaccountid) as foreign_credentials,
    bool_or(t.principal_account is not null and t.principal_account <> t.recipientaccountid and e.account is null) as unknown_account
  from through t
  left join evidence_accounts e on e.account = t.principal_account
  group by t.recipientaccountid, t.vpcendpointid, t.who, t.principal_account, date_trunc('hour', t.eventtime)
)
select
  first as eventtime,
  eventids[1] as eventid,
  eventname,
  who as actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  vpcendpointid as resource,
  'success' as outcome,
  cast(calls as varchar) || ' call' || case when calls = 1 then '' else 's' end || ' through ' || vpcendpointid || ' by ' || coalesce(who, '?')
    || case when denied > 0 then ', ' || cast(denied as varchar) || ' denied by the endpoint policy' else '' end
    || case when foreign_credentials then ', with credentials of account ' || coalesce(principal_account, '?') || case when unknown_account then ' (not in the evidence)' else '' end else '' end
    || ', first ' || coalesce(eventname, '?') as summary,
  eventids,
  case when unknown_account then 'high' else 'medium' end as severity
from grouped
