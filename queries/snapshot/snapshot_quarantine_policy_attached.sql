-- A user the newest account snapshot shows with one of AWS's quarantine policies attached
-- (AWSCompromisedKeyQuarantine*, AWSExposedCredentialPolicy_DO_NOT_REMOVE): AWS found one of
-- the user's access keys exposed (on GitHub, say) and limited what it can do. The logs may
-- hold no trace of it (AWS attached the policy before the evidence starts, or in a gap).
with latest as (
  select snapshot_id, taken_at, account
  from snapshots
  qualify row_number() over (partition by coalesce(account, '') order by taken_at desc, snapshot_id desc) = 1
),
keys as (
  select snapshot_id, detail->>'userName' as user_name, string_agg(id || ' ' || coalesce(state, '?'), ', ' order by id) as listed
  from snapshot_resources
  where kind = 'iam:access-key'
  group by snapshot_id, detail->>'userName'
),
quarantined as (
  select r.snapshot_id, r.id as user_name, r.arn, string_agg(regexp_extract(p.policy, '[^/]+$'), ', ' order by p.policy) as policies
  from snapshot_resources r, (select unnest(from_json(r.detail->'quarantinePolicies', '["varchar"]')) as policy) p
  where r.kind = 'iam:user'
  group by r.snapshot_id, r.id, r.arn
)
select
  l.taken_at as eventtime,
  'snapshot:' || l.snapshot_id || ':' || q.user_name as eventid,
  'QuarantinePolicyAttached' as eventname,
  'AWS' as actor,
  null::varchar as access_key_id,
  null::varchar as sourceipaddress,
  l.account as account,
  null::varchar as region,
  coalesce(q.arn, q.user_name) as resource,
  'success' as outcome,
  'AWS quarantined user ' || q.user_name || ' (' || q.policies || ' attached): it found one of its access keys exposed'
    || coalesce('; keys now: ' || k.listed, '') || ' (snapshot ' || strftime(l.taken_at, '%Y-%m-%dT%H:%M:%SZ') || ')' as summary,
  ['snapshot:' || l.snapshot_id] as eventids
from quarantined q
join latest l using (snapshot_id)
left join keys k on k.snapshot_id = q.snapshot_id and k.user_name = q.user_name
