select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.routeTableId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'route to the internet (' || coalesce(json_extract_string(requestparameters, '$.destinationCidrBlock'), json_extract_string(requestparameters, '$.destinationIpv6CidrBlock'), '?')
    || ' via ' || json_extract_string(requestparameters, '$.gatewayId') || ') in route table ' || coalesce(json_extract_string(requestparameters, '$.routeTableId'), '?') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname in ('CreateRoute', 'ReplaceRoute')
  and starts_with(coalesce(json_extract_string(requestparameters, '$.gatewayId'), ''), 'igw-')
  -- The default route, of any address: the whole internet.
  and try_cast(split_part(coalesce(json_extract_string(requestparameters, '$.destinationCidrBlock'), json_extract_string(requestparameters, '$.destinationIpv6CidrBlock'), ''), '/', 2) as integer) = 0
