-- CloudTrail Insights records (eventCategory Insight): an unusual rate of one API's calls or
-- errors against the account's own baseline. Each insight has a Start and an End record,
-- joined by sharedEventID; the Start is the finding, with both when the End is there.
with insights as (
  select
    eventtime,
    eventid,
    sharedeventid,
    recipientaccountid,
    awsregion,
    json_extract_string(record, '$.insightDetails.state') as state,
    json_extract_string(record, '$.insightDetails.eventName') as api,
    coalesce(json_extract_string(record, '$.insightDetails.eventSource'), eventsource) as service,
    json_extract_string(record, '$.insightDetails.insightType') as insight_type,
    json_extract_string(record, '$.insightDetails.errorCode') as error_code,
    json_extract_string(record, '$.insightDetails.insightContext.statistics.baseline.average') as baseline,
    json_extract_string(record, '$.insightDetails.insightContext.statistics.insight.average') as observed
  from events
  -- Every Insights record carries sharedEventID, a stored column: the record is read only for those.
  where sharedeventid is not null
    and eventcategory = 'Insight'
)
select
  s.eventtime,
  s.eventid,
  coalesce(s.api, 'Insight') as eventname,
  'CloudTrail Insights' as actor,
  null::varchar as access_key_id,
  null::varchar as sourceipaddress,
  s.recipientaccountid as account,
  s.awsregion as region,
  coalesce(s.service, '?') || ' ' || coalesce(s.api, '?') as resource,
  'success' as outcome,
  case when s.insight_type = 'ApiErrorRateInsight' then 'unusual rate of ' || coalesce(s.error_code, 'errors') || ' errors from ' else 'unusual rate of calls to ' end
    || coalesce(s.service, '?') || ' ' || coalesce(s.api, '?') || ': ' || coalesce(s.observed, '?') || ' a minute against a baseline of ' || coalesce(s.baseline, '?')
    || case when e.eventtime is not null then ', until ' || strftime(e.eventtime, '%Y-%m-%dT%H:%M:%SZ') else '' end as summary,
  case when e.eventid is not null then [s.eventid, e.eventid] else [s.eventid] end as eventids,
  case when s.insight_type = 'ApiErrorRateInsight' then 'medium' else 'low' end as severity
from insights s
left join insights e on e.sharedeventid = s.sharedeventid and e.state = 'End'
where s.state = 'Start'
