-- Server-side copies (CopyObject, UploadPartCopy) out of the account's buckets into a bucket
-- that is not the account's: the data leaves without passing through the caller's network.
-- Another account is named when the caller pins the destination's owner
-- (x-amz-expected-bucket-owner) to another account, or when another account's principal copies
-- from this account's bucket; a destination the evidence never shows as the account's (no
-- bucket-level write on it, never a copy source here) is unknown, and less sure.
-- One read of the store (so that detect runs this on its pre-filtered copy of the named
-- events): the copies, and the account's own successful bucket-level writes. Creating or
-- configuring a bucket takes its owner's grant; reading its ACL does not.
with calls as (
  select
    eventtime,
    eventid,
    eventname,
    coalesce(access_key_id, principal_arn) as who,
    coalesce(principal_arn, invoked_by, useridentity_type) as actor,
    access_key_id,
    sourceipaddress,
    recipientaccountid,
    principal_account,
    awsregion,
    errorcode,
    requestparameters
  from events
  where eventsource = 's3.amazonaws.com'
    -- Only names other detections already cover, or catalogued as info: naming a call here marks
    -- it covered, and sensitive_api_called would stop reporting it.
    and eventname in ('CopyObject', 'UploadPartCopy', 'CreateBucket', 'DeleteBucket', 'PutBucketPolicy', 'PutBucketAcl',
                      'PutBucketVersioning', 'PutBucketEncryption', 'PutBucketLifecycle', 'PutBucketReplication', 'PutBucketTagging')
),
copies as (
  select
    eventtime, eventid, eventname, who, actor, access_key_id, sourceipaddress, recipientaccountid, principal_account, awsregion, errorcode,
    json_extract_string(requestparameters, '$.bucketName') as destination,
    split_part(regexp_replace(coalesce(json_extract_string(requestparameters, '$.x-amz-copy-source'), ''), '^/', ''), '/', 1) as source,
    json_extract_string(requestparameters, '$.x-amz-expected-bucket-owner') as destination_owner,
    json_extract_string(requestparameters, '$.x-amz-source-expected-bucket-owner') as source_owner
  from calls
  where eventname in ('CopyObject', 'UploadPartCopy')
),
own_buckets as (
  select distinct recipientaccountid as account, json_extract_string(requestparameters, '$.bucketName') as bucket
  from calls
  where eventname not in ('CopyObject', 'UploadPartCopy') and errorcode is null
  union
  select distinct recipientaccountid, source from copies where source <> ''
),
judged as (
  select
    c.*,
    case
      when c.destination_owner is not null and c.destination_owner <> c.recipientaccountid then 'owned by account ' || c.destination_owner
      when c.principal_account is not null and c.principal_account <> c.recipientaccountid
           and (c.source_owner is null or c.source_owner = c.recipientaccountid) then 'copied by account ' || c.principal_account
    end as foreign_reason,
    o.bucket is null as unknown
  from copies c
  left join own_buckets o on o.account = c.recipientaccountid and o.bucket = c.destination
  where c.destination is not null
    and c.destination <> c.source
    and (c.source_owner is null or c.source_owner = c.recipientaccountid)
),
flagged as (
  select * from judged where foreign_reason is not null or unknown
),
hours as (
  select
    who,
    destination,
    date_trunc('hour', eventtime) as hour,
    errorcode is null as succeeded,
    count(*) as objects,
    min(eventtime) as first,
    list(eventid order by eventtime, eventid) as eventids,
    arg_min(eventname, eventtime) as eventname,
    arg_min(actor, eventtime) as actor,
    arg_min(access_key_id, eventtime) as access_key_id,
    arg_min(sourceipaddress, eventtime) as sourceipaddress,
    arg_min(recipientaccountid, eventtime) as account,
    arg_min(awsregion, eventtime) as region,
    arg_min(source, eventtime) as source,
    max(foreign_reason) as foreign_reason
  from flagged
  group by who, destination, date_trunc('hour', eventtime), errorcode is null
)
select
  first as eventtime,
  eventids[1] as eventid,
  eventname,
  actor,
  access_key_id,
  sourceipaddress,
  account,
  region,
  destination as resource,
  case when succeeded then 'success' else 'attempt' end as outcome,
  cast(objects as varchar) || ' object(s) copied from ' || coalesce(nullif(source, ''), '?') || ' to ' || destination
    || case when foreign_reason is not null then ' (' || foreign_reason || ')' else ' (a bucket this account''s events never show as its own)' end as summary,
  eventids,
  case when foreign_reason is not null then 'high' end as severity
from hours
