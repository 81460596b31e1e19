import type { CloudTrailRecord } from '../../src/core/record.js';
import { Random } from '../../synth/random.js';
import { iamUserIdentity, makeRecord, type EventName } from '../../synth/records.js';

/**
 * Deterministic records spread over regions and days: `perRegionDay` events in each region
 * on each day from `firstDay` (UTC), every eventID distinct.
 */
export function spreadRecords(opts: { regions: readonly string[]; days: number; perRegionDay: number; firstDay?: string; seed?: number; account?: string }): CloudTrailRecord[] {
  const rng = new Random(opts.seed ?? 7);
  // Regional calls only (a global call such as ListBuckets is logged in us-east-1 whatever the region), by three users.
  const names: EventName[] = ['DescribeInstances', 'GetCallerIdentity', 'DescribeRegions'];
  const account = opts.account ?? '111122223333';
  const users = ['alice', 'bob', 'ci-deploy'].map((userName) => iamUserIdentity({ account, userName }));
  const start = Date.parse(opts.firstDay ?? '2026-03-02T00:00:00Z');
  const out: CloudTrailRecord[] = [];
  for (const region of opts.regions) {
    for (let day = 0; day < opts.days; day++) {
      for (let i = 0; i < opts.perRegionDay; i++) {
        // Spread over the day, away from midnight so that delivery folders match event days.
        const time = new Date(start + day * 86_400_000 + 3_600_000 + Math.floor((i * 20 * 3_600_000) / opts.perRegionDay));
        out.push(
          makeRecord(
            names[i % names.length]!,
            { eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'), awsRegion: region, recipientAccountId: account, userIdentity: users[i % users.length]! },
            rng,
          ),
        );
      }
    }
  }
  return out;
}
