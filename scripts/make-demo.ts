import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTrailLayout } from '../synth/layout.js';
import type { TrailLayoutSummary } from '../synth/layout.js';
import { demoSnapshot } from '../synth/demo-snapshot.js';
import { demoScenario } from '../synth/scenario.js';

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/**
 * Writes the demo scenario under `out` as a local copy of its trail bucket (`out/AWSLogs/…`),
 * first removing an earlier `out/AWSLogs` so no stale file survives. The bytes are the same on
 * every run.
 */
export async function makeDemo(out: string): Promise<TrailLayoutSummary> {
  await rm(join(out, 'AWSLogs'), { recursive: true, force: true });
  const records = demoScenario();
  const summary = await writeTrailLayout(out, records);
  // The account snapshot a responder took after a partial cleanup: the demo shows which steps are done.
  await writeFile(join(out, 'snapshot.json'), `${JSON.stringify(demoSnapshot(records), null, 2)}\n`);
  return summary;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const root = projectRoot();
  const out = resolve(values.out ?? join(root, 'fixtures', 'demo'));
  const summary = await makeDemo(out);
  const shown = relative(process.cwd(), out) || '.';
  console.log(
    `wrote ${summary.logFiles} log files and ${summary.digestFiles} digest files ` +
      `(${summary.records} records, ${summary.bytes} bytes) to ${shown}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
