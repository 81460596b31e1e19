import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { Pacer } from '../src/sources/aws.js';
import { ingestEventHistory } from '../src/sources/event-history-source.js';
import { Store } from '../src/store/store.js';
import { startFakeCloudTrailWorker } from './fake-aws.js';

/**
 * Event History pages per second per region against a local fake CloudTrail that refuses more
 * than 2 LookupEvents per second per region: trailhound with every region in parallel, against
 * a plain loop reading the regions one after the other at the same pace, in the same run.
 * Prints figures; never fails on a timing.
 *
 *   npm run bench:event-history
 *   npm run bench:event-history -- --regions 17 --pages 10
 */
const { values } = parseArgs({ options: { regions: { type: 'string', default: '8' }, pages: { type: 'string', default: '6' } } });
const regionCount = Number(values.regions);
const pages = Number(values.pages);
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'sa-east-1'].slice(0, regionCount);

process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIABENCHFAKE0000001';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'benchFakeSecret00000000000000000000000000';
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const perRegionRate = (times: readonly number[]) => (times.length > 1 ? (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000) : 0);
const work = mkdtempSync(join(tmpdir(), 'trailhound-eh-bench-'));
try {
  // Baseline: one region after the other, each paced at the same 1.95 requests per second.
  const sequentialServer = await startFakeCloudTrailWorker(pages);
  const t0 = performance.now();
  for (const region of REGIONS) {
    const client = new CloudTrailClient({ region, endpoint: sequentialServer.url });
    const pacer = new Pacer(1000 / 1.95);
    let token: string | undefined;
    do {
      await pacer.wait();
      const page = await client.send(new LookupEventsCommand({ MaxResults: 50, NextToken: token }));
      token = page.NextToken;
    } while (token);
    client.destroy();
  }
  const sequential = (performance.now() - t0) / 1000;
  await sequentialServer.collect();
  const sequentialThrottled = sequentialServer.throttled();
  await sequentialServer.stop();

  // trailhound: every region in parallel, each paced under its own limit.
  const server = await startFakeCloudTrailWorker(pages);
  const store = await Store.open(join(work, 'bench.duckdb'));
  const t1 = performance.now();
  const summary = await ingestEventHistory({ store, endpointUrl: server.url, cacheDir: join(work, 'cache'), regions: REGIONS, scope: { since: new Date(Date.now() - 7 * 86_400_000) } });
  const parallel = (performance.now() - t1) / 1000;
  store.close();
  await server.collect();
  const rates = REGIONS.map((r) => perRegionRate(server.lookups.get(r) ?? [])).sort((a, b) => a - b);
  await server.stop();

  const total = REGIONS.length * pages;
  console.log(`Event History from a local fake CloudTrail (2 LookupEvents/s per region enforced): ${REGIONS.length} regions x ${pages} pages of 50 events`);
  console.log(`  regions one after another   ${sequential.toFixed(2)} s   ${(total / sequential).toFixed(2)} pages/s overall   1.0x   (${sequentialThrottled} throttled)`);
  console.log(`  trailhound, all in parallel ${parallel.toFixed(2)} s   ${(total / parallel).toFixed(2)} pages/s overall   ${(sequential / parallel).toFixed(1)}x   (${server.throttled()} throttled, ${summary.eventsLoaded} events loaded)`);
  console.log(`  per region, first to last request: min ${rates[0]!.toFixed(3)}, median ${rates[Math.floor(rates.length / 2)]!.toFixed(3)}, max ${rates.at(-1)!.toFixed(3)} pages/s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
