with reads as (
  select
    eventtime,
    eventid,
    eventsource,
    access_key_id,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    sourceipaddress,
    recipientaccountid,
    awsregion
  from events
  where access_key_id is not null
    and readonly
    and useridentity_type in ('IAMUser', 'Root', 'AssumedRole', 'FederatedUser')
    and regexp_matches(eventname, '^(List|Describe|Get)')
    and eventsource not in ('s3.amazonaws.com', 'kms.amazonaws.com', 'sts.amazonaws.com', 'logs.amazonaws.com', 'monitoring.amazonaws.com')
),
hours as (
  select
    access_key_id,
    sourceipaddress,
    date_trunc('hour', eventtime) as hour,
    count(*) as calls,
    count(distinct eventsource) as services,
    count(distinct awsregion) as regions,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(actor, eventtime) as actor,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region
  from reads
  group by access_key_id, sourceipaddress, date_trunc('hour', eventtime)
  having count(distinct eventsource) >= 4 and count(*) >= 15
)
select
  first as eventtime,
  eventids[1] as eventid,
  'Discovery' as eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  access_key_id as resource,
  'success' as outcome,
  calls || ' List/Describe/Get calls across ' || services || ' services and ' || regions || ' region(s) within the hour from ' || coalesce(sourceipaddress, '?') as summary,
  eventids
from hours
