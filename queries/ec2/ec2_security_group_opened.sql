-- Every CIDR a request names (flat cidrIp, ipPermissions items, IPv6, RDS/Redshift CIDRIP, network
-- ACL entries), one row each, with its prefix length: the width is computed, not matched as text.
with requests as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    awsregion,
    coalesce(
      json_extract_string(requestparameters, '$.groupId'),
      json_extract_string(requestparameters, '$.groupName'),
      json_extract_string(requestparameters, '$.dBSecurityGroupName'),
      json_extract_string(requestparameters, '$.clusterSecurityGroupName'),
      json_extract_string(requestparameters, '$.networkAclId')
    ) as target,
    errorcode,
    cast(requestparameters as varchar) as request
  from events
  where eventname in ('AuthorizeSecurityGroupIngress', 'AuthorizeDBSecurityGroupIngress', 'AuthorizeClusterSecurityGroupIngress', 'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
    and eventsource in ('ec2.amazonaws.com', 'rds.amazonaws.com', 'redshift.amazonaws.com')
    -- A network ACL entry matters when it allows inbound traffic.
    and (eventname not in ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
         or (json_extract_string(requestparameters, '$.ruleAction') = 'allow' and coalesce(json_extract_string(requestparameters, '$.egress'), 'false') = 'false'))
),
cidrs as (
  select
    r.*,
    c.cidr,
    strpos(c.cidr, ':') > 0 as v6,
    try_cast(split_part(c.cidr, '/', 2) as integer) as prefix
  from requests r
  cross join unnest(regexp_extract_all(r.request, '(?i)"(?:cidrip|cidripv6|cidrblock|ipv6cidrblock|cidripv4)"\s*:\s*"([^"]+/[0-9]+)"', 1)) as c (cidr)
),
wide as (
  select
    *,
    -- Host bits left open: 32 (IPv4) or 128 (IPv6) minus the prefix; /0 of any address is everything.
    (case when v6 then 128 else 32 end) - prefix as open_bits,
    row_number() over (partition by eventid order by prefix, cidr) as pick
  from cidrs
  where prefix is not null
    and prefix <= case when v6 then {{max_prefix_v6}} else {{max_prefix_v4}} end
)
select
  eventtime,
  eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  target as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' opens ' || coalesce(target, '?') || ' to ' || cidr
    || case when prefix = 0 then ' (the whole internet)' else ' (2^' || cast(open_bits as varchar) || ' addresses)' end
    || ' in ' || coalesce(awsregion, '?') as summary
from wide
where pick = 1
