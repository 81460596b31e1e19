-- Each layer ARN a function is given, with the account that owns the layer.
with layers as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    coalesce(e.principal_arn, e.invoked_by, e.useridentity_type) as actor,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    e.errorcode,
    json_extract_string(e.requestparameters, '$.functionName') as function_name,
    l.owner
  from events e
  cross join unnest(regexp_extract_all(cast(e.requestparameters as varchar), 'arn:aws[a-z-]*:lambda:[a-z0-9-]+:([0-9]{12}):layer:', 1)) as l (owner)
  where e.eventsource = 'lambda.amazonaws.com'
    and (e.eventname like 'CreateFunction%' or e.eventname like 'UpdateFunctionConfiguration%')
),
foreign_layers as (
  select
    eventtime, eventid, eventname, actor, access_key_id, sourceipaddress, recipientaccountid, awsregion, errorcode, function_name,
    min(owner) as owner
  from layers
  where owner <> recipientaccountid
  group by eventtime, eventid, eventname, actor, access_key_id, sourceipaddress, recipientaccountid, awsregion, errorcode, function_name
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
  function_name as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  'function ' || coalesce(function_name, '?') || ' given a layer of account ' || owner as summary
from foreign_layers
