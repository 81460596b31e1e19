select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.emailIdentity'), json_extract_string(requestparameters, '$.emailAddress'), json_extract_string(requestparameters, '$.domain')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  eventname || coalesce(' ' || coalesce(json_extract_string(requestparameters, '$.emailIdentity'), json_extract_string(requestparameters, '$.emailAddress'), json_extract_string(requestparameters, '$.domain')), '') as summary
from events
where eventsource = 'ses.amazonaws.com'
  and eventname in ('UpdateAccountSendingEnabled', 'PutAccountDetails', 'PutAccountSendingAttributes', 'CreateEmailIdentity', 'VerifyEmailIdentity', 'VerifyDomainIdentity')
