select
  eventtime,
  eventid,
  eventname,
  coalesce(principal_arn, invoked_by, useridentity_type) as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(json_extract_string(requestparameters, '$.userName'), json_extract_string(requestparameters, '$.roleName'), json_extract_string(requestparameters, '$.groupName')) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  coalesce(json_extract_string(requestparameters, '$.policyArn'), '?') || ' attached to ' || coalesce(json_extract_string(requestparameters, '$.userName'), json_extract_string(requestparameters, '$.roleName'), json_extract_string(requestparameters, '$.groupName'), '?') as summary
from events
where eventsource = 'iam.amazonaws.com'
  and eventname in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
  and not regexp_matches(coalesce(json_extract_string(requestparameters, '$.policyArn'), ''), ':policy/(AdministratorAccess|IAMFullAccess|PowerUserAccess)$|AWSCompromisedKeyQuarantine|AWSExposedCredentialPolicy_DO_NOT_REMOVE')
