select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.userName')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || ' for ' || coalesce(json_extract_string(requestparameters, '$.userName'), user_name, '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname in ('UploadSSHPublicKey', 'UploadSigningCertificate', 'CreateServiceSpecificCredential', 'ResetServiceSpecificCredential')
