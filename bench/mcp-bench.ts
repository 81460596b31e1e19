import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { storeCoverage } from '../src/analyze/coverage.js';
import { duckdbSource } from '../src/analyze/duckdb-source.js';
import { analyzeOn } from '../src/cli/analyze-command.js';
import { ingestFiles } from '../src/ingest/pipeline.js';
import { runQuery } from '../src/store/query.js';
import { storeStats } from '../src/store/stats.js';
import { searchEvents } from '../src/mcp/evidence.js';
import { Store } from '../src/store/store.js';
import { DEMO_FACTS } from '../synth/scenario.js';
import { ensureBenchStore } from './bench-store.js';

/**
 * Times `trailhound mcp` tool calls (the SDK client over stdio, the store opened read-only for
 * each call and closed after it) against the same library calls made in-process on a store
 * kept open, measured in the same run. The difference is what the protocol, the JSON
 * envelope and the per-call open cost. Prints figures; never fails on a timing.
 *
 *   npm run bench:mcp                                 # 1M events (+ the demo)
 *   node dist/bench/mcp-bench.js --events 100000      # smaller
 */
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const DEMO = join(ROOT, 'fixtures', 'demo');

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work(); // warm the file cache and DuckDB's
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '7' } } });
  const events = Number(values.events);
  const runs = Number(values.runs);
  const db = resolve(`bench/mcp-${events}.duckdb`);
  await ensureBenchStore(events, resolve(`bench/corpus-${events}`), db);
  const key = DEMO_FACTS.leakedKeyId;
  {
    const store = await Store.open(db);
    if (((await store.one<{ n: number }>('select count(*)::bigint as n from events where access_key_id = ?', [key]))?.n ?? 0) === 0) await ingestFiles({ store, paths: [DEMO] });
    store.close();
  }

  const store = await Store.open(db, { readOnly: true });
  const total = (await store.one<{ n: number }>('select count(*)::bigint as n from events'))?.n ?? 0;
  const calls: Array<{ name: string; args: Record<string, unknown>; library: () => Promise<unknown> }> = [
    { name: 'store_summary', args: {}, library: async () => [await storeStats(store), await storeCoverage(store, {})] },
    { name: 'analyze', args: { key: [key] }, library: () => analyzeOn(duckdbSource(store), { key: [key], maxEvents: '200', format: 'json' }) },
    { name: 'search_events', args: { key: [key], event_name: ['CreateAccessKey', 'RunInstances'] }, library: () => searchEvents(store, { keys: [key], eventNames: ['CreateAccessKey', 'RunInstances'], limit: 50 }) },
    { name: 'query', args: { sql: 'select eventname, count(*) as n from events group by 1 order by n desc limit 20' }, library: () => runQuery(store, 'select eventname, count(*) as n from events group by 1 order by n desc limit 20') },
  ];
  const library = new Map<string, number>();
  for (const call of calls) library.set(call.name, await timed(runs, call.library));
  store.close();
  const open = await timed(runs, async () => (await Store.open(db, { readOnly: true })).close());

  const started = performance.now();
  const client = new Client({ name: 'trailhound-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--db', db], stderr: 'inherit' }));
  const connect = performance.now() - started;

  process.stdout.write(`trailhound mcp over ${total.toLocaleString('en-US')} events (median of ${runs} runs after a warm-up)\n`);
  process.stdout.write(`server start and MCP handshake: ${connect.toFixed(0)} ms; opening and closing the store read-only: ${open.toFixed(1)} ms\n\n`);
  process.stdout.write(`${'tool'.padEnd(16)}${'library (ms)'.padStart(14)}${'mcp (ms)'.padStart(12)}${'ratio'.padStart(9)}${'answer (KiB)'.padStart(14)}\n`);
  for (const call of calls) {
    let size = 0;
    const mcp = await timed(runs, async () => {
      const result = (await client.callTool({ name: call.name, arguments: call.args })) as { isError?: boolean; content: Array<{ text?: string }> };
      if (result.isError) throw new Error(`${call.name} failed: ${result.content[0]?.text}`);
      size = result.content[0]?.text?.length ?? 0;
    });
    const base = library.get(call.name)!;
    process.stdout.write(`${call.name.padEnd(16)}${base.toFixed(1).padStart(14)}${mcp.toFixed(1).padStart(12)}${`${(mcp / base).toFixed(2)}x`.padStart(9)}${(size / 1024).toFixed(1).padStart(14)}\n`);
  }
  await client.close();
}

await main();
