-- The destination's account, when the configuration names one (Destination.Account, set for
-- cross-account replication): another account than the bucket's own is exfiltration that
-- keeps running by itself.
with replication as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    errorcode,
    json_extract_string(requestparameters, '$.bucketName') as bucket,
    cast(json_extract(requestparameters, '$.ReplicationConfiguration') as varchar) as config
  from events
  where eventsource = 's3.amazonaws.com'
    and eventname = 'PutBucketReplication'
),
foreign_destinations as (
  select r.eventid, min(d.account) as other
  from replication r
  cross join unnest(regexp_extract_all(coalesce(r.config, ''), '"Account"\s*:\s*"([0-9]{12})"', 1)) as d (account)
  where d.account <> r.recipientaccountid
  group by r.eventid
)
select
  r.eventtime,
  r.eventid,
  r.eventname,
  r.actor,
  r.access_key_id,
  r.sourceipaddress,
  r.recipientaccountid as account,
  r.awsregion as region,
  r.bucket as resource,
  case when r.errorcode is null then 'success' else 'attempt' end as outcome,
  'replication set on ' || coalesce(r.bucket, '?') || case when f.other is not null then ' to account ' || f.other || ' (another account)' else '' end as summary,
  case when f.other is not null then 'high' end as severity
from replication r
left join foreign_destinations f on f.eventid = r.eventid
