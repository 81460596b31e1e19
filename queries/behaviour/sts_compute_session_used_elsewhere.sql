-- Role sessions that belong to compute (issued to a service, or carrying instance-profile marks)
-- and are used from an address or with a client that is not the workload's.
with minted as (
  select
    minted_key_id as access_key_id,
    coalesce(invoked_by, sourceipaddress) as service
  from events
  where eventsource = 'sts.amazonaws.com'
    and eventname = 'AssumeRole'
    and errorcode is null
    and coalesce(invoked_by, sourceipaddress) in (
      'lambda.amazonaws.com', 'ecs-tasks.amazonaws.com', 'ec2.amazonaws.com', 'codebuild.amazonaws.com',
      'glue.amazonaws.com', 'pods.eks.amazonaws.com', 'eks.amazonaws.com', 'batch.amazonaws.com',
      'sagemaker.amazonaws.com', 'states.amazonaws.com', 'tasks.apprunner.amazonaws.com',
      'elasticmapreduce.amazonaws.com', 'datapipeline.amazonaws.com', 'ssm.amazonaws.com'
    )
),
-- Each role session's marks, from one pass over its calls that keeps no call: a busy account has
-- hundreds of thousands of sessions, and only the compute ones are read again below.
marks as (
  select
    access_key_id,
    -- Instance-profile sessions (ec2RoleDelivery set) are named after the instance.
    bool_or(regexp_matches(lower(principal_arn), '/i-[0-9a-f]{8,17}$')) as instance,
    bool_or(regexp_matches(coalesce(useragent, ''), 'exec-env/AWS_(Lambda|ECS)')) as workload_agent
  from events
  where access_key_id like 'ASIA%'
    and useridentity_type = 'AssumedRole'
  group by access_key_id
),
sessions as (
  select
    k.access_key_id,
    m.service,
    k.instance,
    k.workload_agent
  from marks k
  left join (select access_key_id, max(service) as service from minted group by access_key_id) m on m.access_key_id = k.access_key_id
  where m.service is not null or k.instance or k.workload_agent
),
uses as (
  select
    eventtime,
    eventid,
    eventname,
    access_key_id,
    principal_arn,
    sourceipaddress,
    coalesce(useragent, '') as agent,
    -- The client family: the first token of the user agent (aws-cli, Boto3, aws-sdk-go, a tool's name).
    lower(coalesce(regexp_extract(useragent, '^\[?([A-Za-z0-9._-]+)', 1), '')) as client,
    recipientaccountid,
    awsregion,
    strftime(eventtime, '%Y-%m-%dT%H:%M:%SZ') || coalesce(eventid, '') as ord
  from events
  where access_key_id like 'ASIA%'
    and useridentity_type = 'AssumedRole'
    and access_key_id in (select access_key_id from sessions)
),
-- Where and with what the session was first used from an address (calls a service makes on its
-- behalf, from a service name, are not a baseline).
baseline as (
  select
    access_key_id,
    arg_min(sourceipaddress, ord) as first_ip,
    arg_min(agent, ord) as first_agent,
    arg_min(client, ord) as first_client,
    min(ord) as first_ord
  from uses
  where regexp_matches(sourceipaddress, '^[0-9a-fA-F.:]+$')
  group by access_key_id
),
compute as (
  select
    s.*,
    b.first_ip,
    b.first_agent,
    b.first_client,
    b.first_ord,
    coalesce(s.service, case when s.instance then 'ec2.amazonaws.com' else 'the workload (' || b.first_client || ')' end) as issued_to
  from sessions s
  join baseline b on b.access_key_id = s.access_key_id
),
-- Addresses people work from: long-term keys, root, console and Identity Center sessions.
people as (
  select distinct sourceipaddress
  from events
  where regexp_matches(sourceipaddress, '^[0-9a-fA-F.:]+$')
    and (useridentity_type in ('IAMUser', 'Root') or access_key_id like 'AKIA%' or principal_arn like '%:assumed-role/AWSReservedSSO_%')
),
flagged as (
  select
    u.*,
    c.issued_to,
    c.first_ip,
    c.first_agent,
    c.first_client,
    c.first_ord,
    regexp_matches(lower(u.agent), '(darwin|macos|mac os x|windows nt|windows/1[01]|mozilla/|kali|pacu|stratus-red-team|trufflehog|scoutsuite|cloudfox|pmapper|weirdaal|enumerate-iam|cloudsploit|powershell)') as person_client,
    p.sourceipaddress is not null as person_address,
    u.sourceipaddress <> c.first_ip and u.client <> c.first_client as moved,
    (c.service in ('lambda.amazonaws.com', 'ecs-tasks.amazonaws.com') or c.workload_agent) and not regexp_matches(u.agent, 'exec-env/') as outside_runtime
  from uses u
  join compute c on c.access_key_id = u.access_key_id
  left join people p on p.sourceipaddress = u.sourceipaddress
  where regexp_matches(u.sourceipaddress, '^[0-9a-fA-F.:]+$')
),
hits as (
  select
    *,
    row_number() over (partition by access_key_id, sourceipaddress, client order by ord) as pick
  from flagged
  where person_client or person_address or moved or outside_runtime
)
select
  eventtime,
  eventid,
  eventname,
  principal_arn as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  access_key_id as resource,
  'success' as outcome,
  'session ' || access_key_id || ' issued to ' || issued_to || ' used from ' || sourceipaddress || ' with ' || agent
    || case when ord = first_ord then ' (no earlier use in the evidence)' else '; first used from ' || coalesce(first_ip, '?') || ' with ' || coalesce(first_agent, '?') end
    || case when person_address then '; people work from this address' else '' end as summary,
  case when person_client or person_address then 'high' else 'medium' end as severity
from hits
where pick = 1
