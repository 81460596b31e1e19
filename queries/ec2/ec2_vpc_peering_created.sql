select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.vpcId'), json_extract_string(requestparameters, '$.vpcPeeringConnectionId')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || coalesce(' to account ' || json_extract_string(requestparameters, '$.peerOwnerId'), '') as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname in ('CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection')
