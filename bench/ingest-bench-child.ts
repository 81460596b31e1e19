import { DuckDBInstance } from '@duckdb/node-api';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { Store } from '../src/store/store.js';

/** One measured load in its own process: prints {seconds, maxRssMiB, rows} as JSON. */
async function main(): Promise<void> {
  const [mode, corpus, db] = process.argv.slice(2) as [string, string, string];
  const started = performance.now();
  let rows = 0;
  if (mode === 'trailhound') {
    const store = await Store.open(db, { memoryLimit: '1GB' });
    const summary = await ingestFiles({ store, paths: [corpus] });
    store.close();
    rows = summary.eventsLoaded;
  } else {
    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    const glob = `${corpus.replace(/'/g, "''")}/**/*.json.gz`;
    // trailhound runs with this setting; the second baseline shows what it is worth on its own.
    if (mode === 'duckdb-raw-unordered') await connection.run('set preserve_insertion_order = false');
    await connection.run(
      `create table raw as select unnest(Records) as record from read_json('${glob}', columns = {Records: 'JSON[]'}, format = 'unstructured', maximum_object_size = 268435456)`,
    );
    const reader = await connection.runAndReadAll(`select count(*) from raw`);
    rows = Number(reader.getRows()[0]![0]);
    connection.closeSync();
    instance.closeSync();
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), rows })}\n`);
}

await main();
