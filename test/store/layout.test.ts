import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/pipeline.js';
import { compactStore } from '../../src/store/compact.js';
import { formatHasZstd, recordCompression } from '../../src/store/segments.js';
import { storeStats } from '../../src/store/stats.js';
import { Store } from '../../src/store/store.js';
import { makeRecord } from '../../synth/records.js';
import { Workspace, records, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.dispose());

const DEMO = join(import.meta.dirname, '..', '..', 'fixtures', 'demo');

/** Records of every awkward shape: unknown fields, nulls, nested arrays, a huge requestParameters, escapes. */
function awkwardFiles(): string[] {
  const base = records(60, 11, ['RunInstances', 'AttachUserPolicy', 'CreateAccessKey', 'AssumeRole', 'ConsoleLogin']);
  const huge = {
    ...makeRecord('AttachUserPolicy'),
    requestParameters: {
      roleName: 'big',
      policyDocument: JSON.stringify({ Statement: Array.from({ length: 3000 }, (_, i) => ({ Effect: 'Allow', Action: `s3:Get${i}`, Resource: `arn:aws:s3:::b${i}/*` })) }),
      tags: Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: [i, null, { deep: [[i]] }] })),
    },
  };
  const odd = [
    { ...makeRecord('ListBuckets'), brandNewField: { nested: [1, 'two', null, [3.5, [true, false]]] }, eventVersion: '9.99' },
    { ...makeRecord('GetObject'), requestParameters: null, responseElements: null, additionalEventData: { bytesTransferredIn: 0, x: [] }, resources: [] },
    { ...makeRecord('DescribeInstances'), userAgent: 'a "quoted"\nnew line \\ back\tslash \u00e9\u4e2d <script>&amp;', errorMessage: '\u0001 control' },
    { ...makeRecord('CreateUser'), requestParameters: { userName: 'x', list: [[[[]]]], empty: {}, n: -1.25e-7, big: 12345678901234 } },
    // requestParameters missing, a string, a number, an array: the stored column keeps each apart from a JSON null
    withoutRequest(makeRecord('GetCallerIdentity')),
    { ...makeRecord('ListUsers'), requestParameters: 'just "text" \u2028' },
    { ...makeRecord('ListRoles'), requestParameters: 0.5 },
    { ...makeRecord('DescribeRegions'), requestParameters: [{ a: null }, [], '\u0000'] },
    // the minted key: a number, not under an object, both shapes at once, a repeated key (the first is read)
    { ...makeRecord('AssumeRole'), responseElements: { credentials: { accessKeyId: 12 } } },
    { ...makeRecord('AssumeRole'), responseElements: { credentials: 'ASIAFLAT' } },
    { ...makeRecord('CreateAccessKey'), responseElements: { accessKey: { accessKeyId: 'AKIABOTH' }, credentials: { accessKeyId: 'ASIABOTH' } } },
  ];
  // JSON.stringify cannot write a key twice: the response is put in as text.
  const repeated = `{"Records":[${JSON.stringify({ ...makeRecord('GetSessionToken'), responseElements: 'RESPONSE' }).replace('"RESPONSE"', '{"credentials":{"accessKeyId":"ASIAFIRST","accessKeyId":"ASIASECOND"}}')}]}`;
  return [
    ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/base.json.gz', recordsFile(base)),
    ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/repeated.json', repeated),
    ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/huge.json.gz', recordsFile([huge])),
    ws.write('AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/odd.json', recordsFile(odd as never)),
  ];
}

function withoutRequest(record: Record<string, unknown>): Record<string, unknown> {
  const { requestParameters: _, ...rest } = record;
  return rest;
}

/** The original record each stored row came from: its file's Records[record_index]. */
function original(uri: string, index: number): unknown {
  const bytes = readFileSync(uri);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  return (JSON.parse(text) as { Records: unknown[] }).Records[index];
}

/** A field as the JSON functions read it as text: a string as it is, a number as its digits, nothing else. */
function textAt(record: unknown, ...path: string[]): string | null {
  let at = record;
  for (const key of path) at = at !== null && typeof at === 'object' && !Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined;
  return typeof at === 'string' ? at : typeof at === 'number' ? String(at) : null;
}

/**
 * Every stored record equals its original, field for field and in the same key order, the
 * requestParameters stored beside it is the original's (SQL NULL where the field is missing,
 * JSON null where it is null), and the minted key is the response's credentials.accessKeyId, else
 * its accessKey.accessKeyId; gives how many were compared.
 */
async function expectRecordsAsLoaded(store: Store): Promise<number> {
  const rows = await store.all<{ uri: string; record_index: number; record: string; requestparameters: string | null; minted_key_id: string | null; derived: string | null }>(
    `select i.uri, e.record_index, e.record, e.requestparameters, e.minted_key_id,
            coalesce(json_extract_string(e.record, '$.responseElements.credentials.accessKeyId'), json_extract_string(e.record, '$.responseElements.accessKey.accessKeyId')) as derived
     from event_rows e join inputs i using (input_id) order by i.uri, e.record_index`,
  );
  let minted = 0;
  for (const row of rows) {
    const at = `${row.uri} record ${row.record_index}`;
    // The minted key stored is what a segment without the column reads out of the record.
    expect(row.minted_key_id, at).toBe(row.derived);
    if (row.uri.endsWith('repeated.json')) {
      expect(row.minted_key_id, at).toBe('ASIAFIRST');
      minted++;
      continue;
    }
    const source = original(row.uri, row.record_index) as Record<string, unknown>;
    const response = source['responseElements'];
    expect(row.minted_key_id, at).toBe(textAt(response, 'credentials', 'accessKeyId') ?? textAt(response, 'accessKey', 'accessKeyId'));
    if (row.minted_key_id !== null) minted++;
    expect(JSON.parse(row.record), at).toEqual(source);
    expect(JSON.stringify(JSON.parse(row.record))).toBe(JSON.stringify(source));
    if (Object.hasOwn(source, 'requestParameters')) {
      expect(typeof row.requestparameters, at).toBe('string');
      expect(JSON.parse(row.requestparameters!), at).toEqual(source['requestParameters']);
    }
    else expect(row.requestparameters, at).toBeNull();
  }
  // AssumeRole and CreateAccessKey of the base file, the number, both shapes, the repeated key
  expect(minted).toBeGreaterThan(3);
  return rows.length;
}

/** The compression DuckDB wrote each segment's record and requestparameters columns with (after a checkpoint). */
async function storedCompression(store: Store): Promise<string[]> {
  await store.checkpoint();
  const tables = await store.all<{ table_name: string }>('select table_name from segments order by segment_id');
  const out = new Set<string>();
  for (const { table_name } of tables) {
    const rows = await store.all<{ c: string }>(`select distinct compression as c from pragma_storage_info('${table_name}') where column_name in ('record', 'requestparameters') and compression <> 'Constant' and segment_type <> 'VALIDITY'`);
    for (const r of rows) out.add(r.c);
  }
  return [...out].sort();
}

async function fileFormat(store: Store): Promise<string> {
  return (await store.one<{ v: string }>(`select tags['storage_version']::varchar as v from duckdb_databases() where database_name = current_database()`))!.v;
}

describe('the compressed record layout', () => {
  it('stores every record zstd-compressed and reads each back as it was, for the demo and every awkward shape', async () => {
    const store = await Store.open(ws.path('new.duckdb'));
    try {
      await ingestFiles({ paths: [DEMO, ...awkwardFiles()], store });
      expect(formatHasZstd(await fileFormat(store))).toBe(true);
      expect(await recordCompression(store)).toBe('zstd');
      expect(await storedCompression(store)).toEqual(['ZSTD']);
      expect(await expectRecordsAsLoaded(store)).toBeGreaterThan(1_200);
      expect((await storeStats(store)).layout.records).toBe('zstd');
    } finally {
      store.close();
    }
  });

  it('keeps a store of the older file format working (fsst, as before), and compact rewrites it compressed', async () => {
    const path = ws.path('old.duckdb');
    // The file format every store had before the compressed layout: DuckDB's default.
    const instance = await DuckDBInstance.create(path);
    instance.closeSync();
    const paths = [DEMO, ...awkwardFiles()];
    let store = await Store.open(path);
    try {
      expect(formatHasZstd(await fileFormat(store))).toBe(false);
      // Two loads, the second into a segment of its own: new segments of an old file take fsst too.
      await ingestFiles({ paths: [paths[0]!], store });
      await ingestFiles({ paths: paths.slice(1), store, newSegmentBytes: 0 });
      expect((await store.all('select * from segments')).length).toBeGreaterThanOrEqual(2);
      expect(await recordCompression(store)).toBe('fsst');
      // fsst as before (DuckDB leaves a few strings, the huge record's, uncompressed); asked for zstd, that format would store every record uncompressed.
      const old = await storedCompression(store);
      expect(old).toContain('FSST');
      expect(old).not.toContain('ZSTD');
      expect((await storeStats(store)).layout.records).toBe('fsst');
      await expectRecordsAsLoaded(store);
    } finally {
      store.close();
    }
    const before = statSync(path).size;
    const summary = await compactStore(path);
    expect(summary).toMatchObject({ recordsBefore: 'fsst', recordsAfter: 'zstd' });
    expect(summary.bytesAfter).toBeLessThan(before);
    store = await Store.open(path, { readOnly: true });
    try {
      expect(formatHasZstd(await fileFormat(store))).toBe(true);
      expect(await storedCompression(store)).toEqual(['ZSTD']);
      expect(await expectRecordsAsLoaded(store)).toBeGreaterThan(1_200);
    } finally {
      store.close();
    }
  });

  it('reads the file format tag', () => {
    expect(formatHasZstd('v1.0.0+')).toBe(false);
    expect(formatHasZstd('v0.10.2')).toBe(false);
    expect(formatHasZstd('v1.2.0+')).toBe(true);
    expect(formatHasZstd('v1.5.0+')).toBe(true);
    expect(formatHasZstd('v2.0.0')).toBe(true);
    expect(formatHasZstd(null)).toBe(false);
    expect(formatHasZstd('garbage')).toBe(false);
  });
});
