import { join } from 'node:path';
import { runDetections } from '../../src/detect/runner.js';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { packageRoot } from '../../src/core/version.js';
import { Store } from '../../src/store/store.js';
import { ingest } from '../helpers/store.js';

/** The pinned instants the golden files are rendered at. */
export const PINNED = new Date('2026-03-06T12:00:00Z');

/** The demo scenario in a fresh in-memory store, with the detections run. */
export async function demoStore(): Promise<Store> {
  const store = await Store.open(':memory:');
  await ingest(store, [join(packageRoot(), 'fixtures', 'demo')]);
  await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
  return store;
}

/** Output with the checkout's own path and the ingest run ids (a clock reading) replaced, so golden files hold neither. */
export function portable(text: string): string {
  return text
    .split(packageRoot())
    .join('<root>')
    .replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, '<run-id>');
}
