-- Sign-ins that hand a person's credentials to a command line: an IAM Identity Center OIDC
-- token (aws sso login, with the device-code or authorization-code grant: CreateToken) or an
-- AWS sign-in OAuth2 token for console credentials (aws login: CreateOAuth2Token). The person
-- approves in a browser; the token is collected by the program that started the flow.
--
-- Severity comes from where the two halves happened. Device-code phishing has the victim
-- approve in their own browser while the attacker's machine collects the token: approved from
-- one address, collected from another, minutes apart (high). A token collected from an address
-- the person had not used before in the evidence, when they had used others, is medium; a
-- root token is medium; the rest (the person's usual laptop) is low. Polling while the
-- approval is pending, and refresh grants, are the flow working and are left out. "Before"
-- means the person's earlier sign-ins and tokens in the evidence.
with signins as (
  -- Sign-in steps and tokens: the browser's (console and Identity Center sign-in, the aws login
  -- approval, the portal) and the program's (CreateToken, CreateOAuth2Token).
  select
    eventtime,
    eventid,
    eventname,
    recipientaccountid,
    awsregion,
    sourceipaddress,
    useragent,
    errorcode,
    useridentity_type,
    coalesce(json_extract_string(useridentity, '$.onBehalfOf.userId'), nullif(user_name, ''), nullif(principal_arn, '')) as person,
    requestparameters
  from events
  where eventname in ('CreateToken', 'CreateOAuth2Token', 'ConsoleLogin', 'CheckMfa', 'UserAuthentication', 'CredentialChallenge', 'CredentialVerification', 'AuthorizeOAuth2Access', 'Authenticate', 'Federate')
    and eventsource in ('sso-oauth.amazonaws.com', 'sso.amazonaws.com', 'signin.amazonaws.com')
),
tokens as (
  select
    * exclude (requestparameters),
    coalesce(json_extract_string(requestparameters, '$.grantType'), '') as grant_type
  from signins
  where eventname in ('CreateToken', 'CreateOAuth2Token')
    -- polling while the approval is pending is the flow working, and a refresh is not a new sign-in
    and coalesce(errorcode, '') not in ('AuthorizationPendingException', 'SlowDownException', 'authorization_pending', 'slow_down')
    and coalesce(json_extract_string(requestparameters, '$.grantType'), '') not like '%refresh_token%'
),
history as (
  -- Where each person signed in or collected a token; the browser steps are the ones that can approve a code.
  select
    person,
    eventtime,
    eventid,
    sourceipaddress,
    eventname not in ('CreateToken', 'CreateOAuth2Token') as browser
  from signins
  where sourceipaddress is not null
    and person is not null
),
context as (
  select
    t.eventid,
    count(h.eventid) filter (where h.eventtime < t.eventtime) as seen_before,
    count(h.eventid) filter (where h.eventtime < t.eventtime and h.sourceipaddress = t.sourceipaddress) as seen_here,
    count(h.eventid) filter (where h.browser and h.eventtime >= t.eventtime - interval '{{approval_minutes}}' minute and h.eventtime <= t.eventtime) as approvals,
    count(h.eventid) filter (where h.browser and h.eventtime >= t.eventtime - interval '{{approval_minutes}}' minute and h.eventtime <= t.eventtime and h.sourceipaddress = t.sourceipaddress) as approvals_here,
    max(h.sourceipaddress) filter (where h.browser and h.eventtime >= t.eventtime - interval '{{approval_minutes}}' minute and h.eventtime <= t.eventtime and h.sourceipaddress <> t.sourceipaddress) as approval_address,
    list(h.eventid order by h.eventtime) filter (where h.browser and h.eventtime >= t.eventtime - interval '{{approval_minutes}}' minute and h.eventtime <= t.eventtime and h.sourceipaddress <> t.sourceipaddress) as approval_ids
  from tokens t
  left join history h
    on h.person = t.person
    and h.eventid <> t.eventid
  group by t.eventid
),
judged as (
  select
    t.*,
    c.seen_before,
    c.seen_here,
    c.approval_address,
    c.approval_ids,
    -- Only an internet address can be "elsewhere": AWS itself and private addresses are not an attacker's machine.
    t.sourceipaddress is not null
      and t.sourceipaddress <> 'AWS Internal'
      and not ends_with(t.sourceipaddress, '.amazonaws.com')
      and c.approvals > 0
      and c.approvals_here = 0 as collected_elsewhere,
    case
      when t.eventname = 'CreateOAuth2Token' then 'console credentials for the CLI (aws login)'
      when t.grant_type like '%device_code%' then 'Identity Center device-code token (aws sso login)'
      when t.grant_type like '%authorization_code%' then 'Identity Center authorization-code token (aws sso login)'
      else 'Identity Center OIDC token'
    end as kind
  from tokens t
  join context c on c.eventid = t.eventid
)
select
  eventtime,
  eventid,
  eventname,
  coalesce(person, useridentity_type, 'unknown person') as actor,
  null::varchar as access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  coalesce(person, recipientaccountid) as resource,
  case when errorcode is null then 'success' else 'attempt' end as outcome,
  kind || ' for ' || coalesce(person, 'an unnamed person') || ' collected from ' || coalesce(sourceipaddress, '?')
    || coalesce(' (' || useragent || ')', '')
    || case
         when collected_elsewhere then ', but approved in a browser from ' || approval_address || ' within {{approval_minutes}} minutes before: the code was approved on one machine and used on another'
         when seen_before > 0 and seen_here = 0 then ', an address this person had not used before in the evidence'
         when seen_before = 0 then ', the first sign-in of this person in the evidence'
         else ''
       end
    || coalesce(' (' || errorcode || ')', '') as summary,
  case when collected_elsewhere then list_concat([eventid], approval_ids) else [eventid] end as eventids,
  case
    when collected_elsewhere then 'high'
    when seen_before > 0 and seen_here = 0 then 'medium'
    when useridentity_type = 'Root' then 'medium'
    else 'low'
  end as severity
from judged
