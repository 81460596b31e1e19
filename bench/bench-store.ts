import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { olderSegmentIds, recordCompression } from '../src/store/segments.js';
import { Store } from '../src/store/store.js';
import { generateCorpus, type CorpusShape } from '../synth/corpus.js';

/** Makes sure the benchmark store `db` exists: generates `events` events under `corpus` if needed, then loads them. */
export async function ensureBenchStore(events: number, corpus: string, db: string, shape: CorpusShape = 'ordinary'): Promise<void> {
  if (existsSync(db) && !(await currentLayout(db))) {
    process.stderr.write(`${db} was made by an older layout; loading it again ...\n`);
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
  }
  if (!existsSync(join(corpus, 'AWSLogs')) && !existsSync(db)) {
    process.stderr.write(`generating ${events} events (${shape}) under ${corpus} ...\n`);
    await generateCorpus({ events, files: Math.max(1, Math.round(events / 500)), out: corpus, shape });
  }
  if (!existsSync(db)) {
    process.stderr.write(`loading ${corpus} into ${db} ...\n`);
    const store = await Store.open(db, { memoryLimit: '1GB' });
    await ingestFiles({ store, paths: [corpus] });
    store.close();
  }
}

/** Whether a kept benchmark store is in this release's layout (a figure of an older one would mislead). */
export async function currentLayout(db: string): Promise<boolean> {
  const store = await Store.open(db, { readOnly: true });
  try {
    return (await recordCompression(store)) === 'zstd' && (await olderSegmentIds(store)).length === 0;
  } finally {
    store.close();
  }
}
