import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { makeRecord, type EventName, type RecordOverrides } from '../../synth/records.js';
import { Random } from '../../synth/random.js';

/** A temporary folder for one test, with helpers to write CloudTrail files in every supported shape. */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'trailhound-test-'));

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Writes a file (text or bytes), gzipped when the name ends in .gz. */
  write(relative: string, content: string | Buffer): string {
    const full = this.path(relative);
    mkdirSync(dirname(full), { recursive: true });
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    writeFileSync(full, relative.endsWith('.gz') ? gzipSync(bytes) : bytes);
    return full;
  }

  /** Writes raw bytes as they are (no gzip added). */
  writeRaw(relative: string, content: Buffer): string {
    const full = this.path(relative);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Deterministic records for tests: `n` events of the given names, each with a distinct eventID. */
export function records(n: number, seed = 1, names: readonly EventName[] = ['DescribeInstances', 'ListBuckets', 'GetCallerIdentity'], overrides: RecordOverrides = {}): CloudTrailRecord[] {
  const rng = new Random(seed);
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < n; i++) {
    const time = new Date(Date.UTC(2026, 2, 2, 10, 0, 0) + i * 60_000).toISOString().replace(/\.000Z$/, 'Z');
    out.push(makeRecord(names[i % names.length]!, { eventTime: time, ...overrides }, rng));
  }
  return out;
}

/** `{"Records":[…]}` as CloudTrail writes it. */
export function recordsFile(list: readonly CloudTrailRecord[]): string {
  return JSON.stringify({ Records: list });
}

/** The output of `aws cloudtrail lookup-events`: each event's record is a JSON string. */
export function lookupEventsFile(list: readonly CloudTrailRecord[]): string {
  return JSON.stringify(
    {
      Events: list.map((r) => ({
        EventId: r.eventID,
        EventName: r.eventName,
        ReadOnly: String(r.readOnly ?? false),
        EventTime: r.eventTime,
        EventSource: r.eventSource,
        Resources: [],
        CloudTrailEvent: JSON.stringify(r),
      })),
      NextToken: 'eyJ0b2tlbiI6IjEifQ==',
    },
    null,
    4,
  );
}

/** One record per line. */
export function jsonLines(list: readonly CloudTrailRecord[]): string {
  return `${list.map((r) => JSON.stringify(r)).join('\n')}\n`;
}
