-- Resources the newest account snapshot lists in a region where the evidence holds no event of
-- that account at all: attackers launch where the owner never looks, and a region nobody uses
-- is also a region nobody logs or watches. One finding per region, naming what is there.
with latest as (
  select snapshot_id, taken_at, account
  from snapshots
  qualify row_number() over (partition by coalesce(account, '') order by taken_at desc, snapshot_id desc) = 1
),
used as (
  select distinct recipientaccountid as account, awsregion as region from events where awsregion is not null
),
placed as (
  select r.snapshot_id, r.region, r.kind, r.id, r.state
  from snapshot_resources r join latest l using (snapshot_id)
  where r.region is not null
    and r.kind in ('ec2:instance', 'ec2:spot-request', 'ec2:image', 'ec2:volume', 'ec2:snapshot', 'ec2:key-pair', 'ec2:launch-template', 'autoscaling:group', 'ecs:cluster', 'ecr:repository', 'lambda:function', 'lambda:layer', 'lightsail:instance', 'sagemaker:notebook')
    -- An instance terminated (or a request closed) no longer runs: not worth a finding.
    and lower(coalesce(r.state, '')) not in ('terminated', 'shutting-down', 'cancelled', 'closed', 'failed', 'inactive')
    and exists (select 1 from used)
    and not exists (select 1 from used u where u.region = r.region and (l.account is null or u.account = l.account))
)
select
  l.taken_at as eventtime,
  'snapshot:' || l.snapshot_id || ':' || p.region as eventid,
  'ResourceInUnusedRegion' as eventname,
  'account snapshot' as actor,
  null::varchar as access_key_id,
  null::varchar as sourceipaddress,
  l.account as account,
  p.region as region,
  p.region as resource,
  'success' as outcome,
  count(*) || ' resource' || case when count(*) = 1 then '' else 's' end || ' in ' || p.region
    || ', a region with no events in the evidence: '
    || string_agg(p.kind || ' ' || p.id || coalesce(' (' || p.state || ')', ''), ', ' order by p.kind, p.id)
    || ' (snapshot ' || strftime(l.taken_at, '%Y-%m-%dT%H:%M:%SZ') || ')' as summary,
  ['snapshot:' || l.snapshot_id] as eventids,
  case when bool_or(p.kind in ('ec2:instance', 'lightsail:instance', 'sagemaker:notebook', 'ec2:spot-request', 'autoscaling:group') and lower(coalesce(p.state, '')) not in ('stopped', 'stopping'))
    then 'high' else 'medium' end as severity
from placed p
join latest l using (snapshot_id)
group by l.taken_at, l.snapshot_id, l.account, p.region
