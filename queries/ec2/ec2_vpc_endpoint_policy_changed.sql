select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.vpcEndpointId') as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'policy of VPC endpoint ' || coalesce(json_extract_string(requestparameters, '$.vpcEndpointId'), '?')
    || case when json_extract_string(requestparameters, '$.resetPolicy') = 'true' then ' reset to full access' else ' replaced' end as summary
from events
where eventsource = 'ec2.amazonaws.com'
  and eventname = 'ModifyVpcEndpoint'
  and (json_extract(requestparameters, '$.policyDocument') is not null or json_extract_string(requestparameters, '$.resetPolicy') = 'true')
