import { join } from 'node:path';
import { runDetections } from '../../src/detect/runner.js';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { packageRoot } from '../../src/core/version.js';
import { Store } from '../../src/store/store.js';
import { markdownSafe } from '../../src/report/text-safety.js';
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

/**
 * Output with the checkout's own path and the ingest run ids (a clock reading) replaced, so
 * golden files hold neither. The path is replaced in every form a renderer writes it (as is,
 * Markdown-escaped, JSON-escaped), so the files compare equal from any checkout path.
 */
export function portable(text: string): string {
  const root = packageRoot();
  const forms = [...new Set([root, markdownSafe(root), JSON.stringify(root).slice(1, -1)])].sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) out = out.split(form).join('<root>');
  return out.replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, '<run-id>');
}
