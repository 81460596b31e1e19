import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create('/tmp/x.duckdb', { access_mode: 'READ_ONLY' });
const c = await db.connect();
const t = async (label, sql) => { const s = performance.now(); const r = await c.runAndReadAll(sql); console.log(label, Math.round(performance.now() - s), 'ms', JSON.stringify(r.getRows()[0], (k, v) => typeof v === 'bigint' ? String(v) : v).slice(0, 80)); };
for (let i = 0; i < 2; i++) {
await t('md5 only', `select sum(hash(md5(record))) from event_rows_0`);
await t('digest', `select sum(hash(digest)) from (select input_id, coalesce(md5(string_agg(m, '' order by m)), '0') as digest from (select input_id, md5(record) as m from event_rows_0) group by input_id)`);
await t('list sort', `select sum(hash(d)) from (select input_id, md5(array_to_string(list_sort(list(m)), '')) d from (select input_id, md5(record) as m from event_rows_0) group by input_id)`);
await t('view digest', `select sum(hash(digest)) from (select input_id, coalesce(md5(string_agg(m, '' order by m)), '0') as digest from (select input_id, md5(record) as m from event_rows where input_id between 1 and 2000) group by input_id)`);
}
await t('same?', `select count(*) from (select input_id, md5(string_agg(m, '' order by m)) as a, md5(array_to_string(list_sort(list(m)), '')) b from (select input_id, md5(record) as m from event_rows_0) group by input_id) where a <> b`);
