import { DuckDBInstance } from '@duckdb/node-api';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { STORE_FORMAT } from '../src/store/segments.js';
import { Store } from '../src/store/store.js';

/**
 * CloudTrail's record (the fields AWS documents, as Athena's CloudTrail table has them) as a
 * DuckDB type: what DuckDB's typed read_json parses each record into. The nested parts
 * (requestParameters, responseElements, …) are JSON, as no fixed type fits them.
 */
const TYPED_RECORD = `STRUCT(eventVersion VARCHAR,
  userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR,
    sessionContext JSON, onBehalfOf JSON, identityProvider VARCHAR, credentialId VARCHAR),
  eventTime TIMESTAMPTZ, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR,
  errorCode VARCHAR, errorMessage VARCHAR, requestParameters JSON, responseElements JSON, additionalEventData JSON,
  requestID VARCHAR, eventID VARCHAR, readOnly BOOLEAN, resources JSON, eventType VARCHAR, apiVersion VARCHAR,
  managementEvent BOOLEAN, recipientAccountId VARCHAR, sharedEventID VARCHAR, vpcEndpointId VARCHAR, eventCategory VARCHAR,
  serviceEventDetails JSON, tlsDetails JSON, sessionCredentialFromConsole VARCHAR, edgeDeviceDetails JSON, insightDetails JSON)`.replace(/\s+/g, ' ');

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
    // The store's own file format, so that zstd is available (in DuckDB's default format a zstd column is stored uncompressed).
    const instance = await DuckDBInstance.create(db, { storage_compatibility_version: STORE_FORMAT });
    const connection = await instance.connect();
    const glob = `${corpus.replace(/'/g, "''")}/**/*.json.gz`;
    const options = `format = 'unstructured', maximum_object_size = 268435456`;
    // trailhound runs with this setting; the second baseline shows what it is worth on its own.
    if (mode === 'duckdb-raw-unordered') await connection.run('set preserve_insertion_order = false');
    if (mode === 'duckdb-typed') {
      await connection.run(`create table raw as select unnest(r) from (select unnest(Records) as r from read_json('${glob}', columns = {Records: '${TYPED_RECORD}[]'}, ${options}))`);
    } else {
      if (mode === 'duckdb-raw-zstd') await connection.run(`create table raw (record json using compression zstd)`);
      await connection.run(
        `${mode === 'duckdb-raw-zstd' ? 'insert into raw' : 'create table raw as'} select unnest(Records) as record from read_json('${glob}', columns = {Records: 'JSON[]'}, ${options})`,
      );
    }
    const reader = await connection.runAndReadAll(`select count(*) from raw`);
    rows = Number(reader.getRows()[0]![0]);
    connection.closeSync();
    instance.closeSync();
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), rows })}\n`);
}

await main();
