import type { ServerResponse } from 'node:http';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { FakeServer, sendJson, sendJsonError, type SeenRequest } from './http.js';

/** A fault for FilterLogEvents: returns true when it answered the request. */
export type LogsFault = (request: SeenRequest, res: ServerResponse) => boolean;

/**
 * A fake CloudWatch Logs (JSON 1.1, `Logs_20140328.FilterLogEvents`): log groups of CloudTrail
 * records, a time window, the subset of filter patterns trailhound writes
 * (`{ ($.a = "x") || ($.a = "y") && ($.b = "z") }`), and pages of `pageSize` events.
 */
export class FakeLogs {
  readonly groups = new Map<string, CloudTrailRecord[]>();
  readonly faults: LogsFault[] = [];
  readonly server = new FakeServer((req, res) => this.handle(req, res));
  readonly seen: SeenRequest[] = [];
  pageSize = 100;
  /** Every n-th page comes back empty with a token, as FilterLogEvents does while it searches. */
  emptyPageEvery = 0;

  patterns(): string[] {
    return this.seen.map((r) => (JSON.parse(r.body) as { filterPattern?: string }).filterPattern ?? '');
  }

  handle(req: SeenRequest, res: ServerResponse): void {
    this.seen.push(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'Logs_20140328.FilterLogEvents') return sendJsonError(res, 400, 'UnknownOperationException', target);
    for (const fault of this.faults) if (fault(req, res)) return;
    const input = JSON.parse(req.body || '{}') as { logGroupName?: string; startTime?: number; endTime?: number; filterPattern?: string; nextToken?: string };
    const records = this.groups.get(input.logGroupName ?? '');
    if (!records) return sendJsonError(res, 400, 'ResourceNotFoundException', 'The specified log group does not exist.');
    const matches = compile(input.filterPattern);
    const all = records.filter((r) => {
      const t = Date.parse(r.eventTime!);
      return t >= (input.startTime ?? 0) && t <= (input.endTime ?? Infinity) && matches(r);
    });
    let offset = 0;
    let pageNo = 0;
    if (input.nextToken) {
      const m = /^(\d+):(\d+)$/.exec(input.nextToken);
      if (!m) return sendJsonError(res, 400, 'InvalidParameterException', 'The specified nextToken is not valid.');
      offset = Number(m[1]);
      pageNo = Number(m[2]);
    }
    if (this.emptyPageEvery && pageNo % this.emptyPageEvery === this.emptyPageEvery - 1) {
      return sendJson(res, 200, { events: [], searchedLogStreams: [], nextToken: `${offset}:${pageNo + 1}` });
    }
    const page = all.slice(offset, offset + this.pageSize);
    const next = offset + this.pageSize < all.length ? `${offset + this.pageSize}:${pageNo + 1}` : undefined;
    sendJson(res, 200, {
      events: page.map((r, i) => ({ logStreamName: `111122223333_CloudTrail_${r.awsRegion}`, timestamp: Date.parse(r.eventTime!), message: JSON.stringify(r), ingestionTime: Date.parse(r.eventTime!) + 60_000, eventId: `${offset + i}` })),
      searchedLogStreams: [],
      ...(next ? { nextToken: next } : {}),
    });
  }
}

/** Evaluates the filter patterns trailhound writes. */
function compile(pattern: string | undefined): (r: CloudTrailRecord) => boolean {
  if (!pattern) return () => true;
  const body = pattern.trim().replace(/^\{\s*/, '').replace(/\s*\}$/, '');
  const groups = body.split(' && ').map((group) => [...group.matchAll(/\$\.([A-Za-z.]+) = "([^"]*)"/g)].map((m) => ({ path: m[1]!.split('.'), value: m[2]! })));
  return (r) =>
    groups.every((terms) =>
      terms.some((t) => {
        let v: unknown = r;
        for (const p of t.path) v = (v as Record<string, unknown> | undefined)?.[p];
        return v === t.value;
      }),
    );
}
