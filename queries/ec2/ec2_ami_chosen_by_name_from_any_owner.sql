-- An instance launched right after its launcher looked an AMI up by name without saying whose
-- AMI it must be (the "whoAMI" name-confusion pattern). DescribeImages with a name filter and no
-- owner returns every account's public AMIs of that name, and a script that takes the newest
-- one runs whatever an outsider published under a matching name, with the instance's role.
-- CloudTrail does not log which image the search returned, so the launch is tied to the search
-- by principal, region and time; the finding names the image the launch used.
with describes as (
  select
    eventtime,
    eventid,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    awsregion,
    cast(requestparameters as varchar) as request
  from events
  where eventsource = 'ec2.amazonaws.com'
    and eventname = 'DescribeImages'
    and errorcode is null
),
searches as (
  select eventtime, eventid, actor, awsregion, (regexp_extract_all(request, '"value"\s*:\s*"([^"]*)"', 1))[1] as pattern
  from describes
  -- a filter on the image name ...
  where regexp_matches(request, '"name"\s*:\s*"name"')
    -- ... and nothing that pins the owner or the image: owners, owner-id/owner-alias filters, image ids, executable-by
    and not regexp_matches(request, '"owner"\s*:\s*"|"name"\s*:\s*"(owner-id|owner-alias|image-id)"|"imageId"\s*:\s*"|"user"\s*:\s*"')
),
launches as (
  -- only the launches of a principal that made such a search (linked below ties them by region and time):
  -- a busy account launches hundreds of thousands of instances, and reading every launch's request cost more than the rest
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
    requestparameters
  from events
  where eventsource = 'ec2.amazonaws.com'
    and eventname = 'RunInstances'
    and coalesce(principal_arn, invoked_by, useridentity_type) in (select actor from searches)
),
linked as (
  -- each launch and the owner-less name searches its launcher made shortly before, in its region
  select
    l.eventid,
    max(s.eventid) as search_id,
    max(s.pattern) as pattern
  from launches l
  join searches s
    on s.actor = l.actor
    and s.awsregion = l.awsregion
    and s.eventtime <= l.eventtime
    and s.eventtime >= l.eventtime - interval '{{launch_minutes}}' minute
  group by l.eventid
),
calls as (
  select l.*, cast(l.requestparameters as varchar) as request
  from launches l
  where l.eventid in (select eventid from linked)
)
select
  l.eventtime,
  l.eventid,
  l.eventname,
  l.actor,
  l.access_key_id,
  l.sourceipaddress,
  l.recipientaccountid as account,
  l.awsregion as region,
  coalesce((regexp_extract_all(l.request, '"imageId"\s*:\s*"([^"]+)"', 1))[1], '?') as resource,
  case when l.errorcode is null then 'success' else 'attempt' end as outcome,
  'instance launched from ' || coalesce((regexp_extract_all(l.request, '"imageId"\s*:\s*"([^"]+)"', 1))[1], '?') || ' by ' || coalesce(l.actor, '?') || ' in ' || coalesce(l.awsregion, '?')
    || ' within {{launch_minutes}} minutes after it searched AMIs by name (' || coalesce(k.pattern, '?') || ') without naming an owner: any account can publish a public AMI under that name' as summary,
  [l.eventid, k.search_id] as eventids
from calls l
join linked k on k.eventid = l.eventid
