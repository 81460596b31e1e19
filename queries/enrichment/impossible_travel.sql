-- Two successful calls of one identity (a user, root, or one role session) from places
-- farther apart than anyone can travel in the time between them. The distance is the
-- great-circle distance less both addresses' accuracy radius (100 km where the database
-- gives none); the speed limit is 1,000 km/h, faster than an airliner.
with located as (
  select
    e.eventtime,
    e.eventid,
    e.eventname,
    e.principal_arn,
    e.access_key_id,
    e.sourceipaddress,
    e.recipientaccountid,
    e.awsregion,
    a.latitude,
    a.longitude,
    coalesce(a.accuracy_km, 100) as accuracy_km,
    coalesce(a.city || ', ', '') || coalesce(a.country, '?') as place,
    case when e.useridentity_type = 'AssumedRole' then coalesce(e.access_key_id, e.principal_arn) else e.principal_arn end as who
  from events e
  join address_info a on a.address = e.sourceipaddress
  where a.external
    and not a.aws_owned
    and a.latitude is not null
    and e.principal_arn is not null
    and e.errorcode is null
),
moves as (
  select
    *,
    lag(sourceipaddress) over w as prev_ip,
    lag(eventtime) over w as prev_time,
    lag(latitude) over w as prev_lat,
    lag(longitude) over w as prev_lon,
    lag(accuracy_km) over w as prev_accuracy,
    lag(place) over w as prev_place
  from located
  window w as (partition by who order by eventtime, eventid)
),
legs as (
  select
    *,
    2 * 6371 * asin(sqrt(
      power(sin(radians(latitude - prev_lat) / 2), 2)
      + cos(radians(prev_lat)) * cos(radians(latitude)) * power(sin(radians(longitude - prev_lon) / 2), 2)
    )) as km,
    greatest(date_diff('second', prev_time, eventtime), 1) as seconds
  from moves
  where prev_ip is not null
    and prev_ip <> sourceipaddress
),
fast as (
  select *, greatest(km - accuracy_km - prev_accuracy, 0) as min_km
  from legs
)
select
  eventtime,
  eventid,
  eventname,
  principal_arn as actor,
  access_key_id,
  sourceipaddress,
  recipientaccountid as account,
  awsregion as region,
  principal_arn as resource,
  'success' as outcome,
  principal_arn || ' acted from ' || prev_place || ' (' || prev_ip || ') and ' || cast(round(seconds / 60.0, 1) as varchar)
    || ' min later from ' || place || ' (' || sourceipaddress || '): ' || cast(cast(round(km) as bigint) as varchar)
    || ' km apart, over ' || cast(cast(round(min_km / seconds * 3600) as bigint) as varchar) || ' km/h' as summary
from fast
where min_km > 500
  and min_km / seconds * 3600 > 1000
