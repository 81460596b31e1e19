import type { ServerResponse } from 'node:http';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { FakeServer, sendJson, sendJsonError, sendXml, xmlEscape, type SeenRequest } from './http.js';

// Older SDKs send the long target, newer ones the short one.
const TARGET = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;

/** A public key the fake ListPublicKeys serves. */
export interface FakePublicKey {
  /** DER (PKCS#1) bytes. */
  readonly der: Buffer;
  readonly fingerprint: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** A fault for LookupEvents: returns true when it answered the request. */
export type CloudTrailFault = (request: SeenRequest, res: ServerResponse, region: string) => boolean;

/**
 * A fake CloudTrail (JSON 1.1 with X-Amz-Target): LookupEvents over per-region records with
 * time and attribute filters, pages of 50 and opaque NextTokens, enforcing the 2 requests per
 * second per region limit (a request over it gets ThrottlingException and is counted); and
 * ListPublicKeys.
 */
export class FakeCloudTrail {
  readonly byRegion = new Map<string, CloudTrailRecord[]>();
  readonly faults: CloudTrailFault[] = [];
  readonly publicKeys: FakePublicKey[] = [];
  readonly server = new FakeServer((req, res) => this.handle(req, res));
  /** LookupEvents requests over the rate limit, per region. */
  readonly overLimit = new Map<string, number>();
  pageSize = 50;
  /** Every request this fake answered (also when routed through another server). */
  readonly seen: SeenRequest[] = [];
  /** Whether to answer requests over 2/s with ThrottlingException (the real limit). */
  enforceRate = true;

  add(region: string, records: readonly CloudTrailRecord[]): void {
    this.byRegion.set(region, [...(this.byRegion.get(region) ?? []), ...records].sort((a, b) => (a.eventTime! < b.eventTime! ? 1 : -1)));
  }

  /** LookupEvents requests received for a region, with their times in ms. */
  lookups(region?: string): SeenRequest[] {
    return this.seen.filter((r) => String(r.headers['x-amz-target']).endsWith('LookupEvents') && (!region || r.region === region));
  }

  /** Answers one request (public so that one server can route several fake services). */
  handle(req: SeenRequest, res: ServerResponse): void {
    this.seen.push(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = TARGET.exec(target)?.[1];
    if (!operation) return sendJsonError(res, 400, 'UnknownOperationException', target);
    const region = req.region ?? 'us-east-1';
    const input = JSON.parse(req.body || '{}') as Record<string, unknown>;
    if (operation === 'ListPublicKeys') return this.listPublicKeys(input, res);
    if (operation !== 'LookupEvents') return sendJsonError(res, 400, 'UnknownOperationException', operation);
    if (this.enforceRate) {
      const recent = this.lookups(region).filter((r) => r !== req && req.at - r.at < 1000 && r.at <= req.at);
      if (recent.length >= 2) {
        this.overLimit.set(region, (this.overLimit.get(region) ?? 0) + 1);
        return sendJsonError(res, 400, 'ThrottlingException', 'Rate exceeded');
      }
    }
    for (const fault of this.faults) if (fault(req, res, region)) return;
    const start = typeof input['StartTime'] === 'number' ? input['StartTime'] * 1000 : -Infinity;
    const end = typeof input['EndTime'] === 'number' ? input['EndTime'] * 1000 : Infinity;
    const attrs = (input['LookupAttributes'] as Array<{ AttributeKey: string; AttributeValue: string }> | undefined) ?? [];
    if (attrs.length > 1) return sendJsonError(res, 400, 'InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute');
    const all = (this.byRegion.get(region) ?? []).filter((r) => {
      const t = Date.parse(r.eventTime!);
      if (t < start || t > end) return false;
      const a = attrs[0];
      if (!a) return true;
      if (a.AttributeKey === 'AccessKeyId') return r.userIdentity?.accessKeyId === a.AttributeValue;
      if (a.AttributeKey === 'EventName') return r.eventName === a.AttributeValue;
      if (a.AttributeKey === 'Username') return r.userIdentity?.userName === a.AttributeValue;
      return true;
    });
    const token = typeof input['NextToken'] === 'string' ? input['NextToken'] : undefined;
    let offset = 0;
    if (token) {
      const decoded = /^tok:([^:]+):(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
      if (!decoded || decoded[1] !== region) return sendJsonError(res, 400, 'InvalidNextTokenException', 'Invalid NextToken');
      offset = Number(decoded[2]);
    }
    const page = all.slice(offset, offset + this.pageSize);
    const next = offset + this.pageSize < all.length ? Buffer.from(`tok:${region}:${offset + this.pageSize}`).toString('base64') : undefined;
    sendJson(res, 200, {
      Events: page.map((r) => ({
        EventId: r.eventID,
        EventName: r.eventName,
        ReadOnly: String(r.readOnly ?? true),
        AccessKeyId: r.userIdentity?.accessKeyId,
        EventTime: Date.parse(r.eventTime!) / 1000,
        EventSource: r.eventSource,
        Username: r.userIdentity?.userName,
        Resources: [],
        CloudTrailEvent: JSON.stringify(r),
      })),
      ...(next ? { NextToken: next } : {}),
    });
  }

  private listPublicKeys(input: Record<string, unknown>, res: ServerResponse): void {
    const start = typeof input['StartTime'] === 'number' ? input['StartTime'] * 1000 : -Infinity;
    const end = typeof input['EndTime'] === 'number' ? input['EndTime'] * 1000 : Infinity;
    const keys = this.publicKeys.filter((k) => k.validTo.getTime() >= start && k.validFrom.getTime() <= end);
    sendJson(res, 200, {
      PublicKeyList: keys.map((k) => ({ Value: k.der.toString('base64'), ValidityStartTime: k.validFrom.getTime() / 1000, ValidityEndTime: k.validTo.getTime() / 1000, Fingerprint: k.fingerprint })),
    });
  }
}

/** A fake EC2 that answers DescribeRegions (query protocol, XML). */
export class FakeEc2 {
  readonly server = new FakeServer((req, res) => this.handle(req, res));
  denied = false;
  constructor(readonly regions: readonly string[]) {}

  /** Answers one request. */
  handle(req: SeenRequest, res: ServerResponse): void {
    const form = new URLSearchParams(req.body);
    if (form.get('Action') !== 'DescribeRegions') return sendXml(res, 400, ec2Error('InvalidAction', 'unknown action'));
    if (this.denied) return sendXml(res, 403, ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const items = this.regions.map((r) => `<item><regionName>${xmlEscape(r)}</regionName><regionEndpoint>ec2.${xmlEscape(r)}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>`);
    sendXml(res, 200, `<?xml version="1.0" encoding="UTF-8"?><DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fake</requestId><regionInfo>${items.join('')}</regionInfo></DescribeRegionsResponse>`);
  }
}

function ec2Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>fake</RequestID></Response>`;
}
