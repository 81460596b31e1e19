select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  json_extract_string(requestparameters, '$.userName') as resource,
  'success' as outcome,
  coalesce(json_extract_string(requestparameters, '$.policyArn'), json_extract_string(requestparameters, '$.policyName')) || ' attached to user ' || coalesce(json_extract_string(requestparameters, '$.userName'), '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname in ('AttachUserPolicy', 'PutUserPolicy')
  and regexp_matches(coalesce(json_extract_string(requestparameters, '$.policyArn'), json_extract_string(requestparameters, '$.policyName'), ''), 'AWSCompromisedKeyQuarantine|AWSExposedCredentialPolicy_DO_NOT_REMOVE')
