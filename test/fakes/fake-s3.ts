import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, sendXml, xmlEscape, type SeenRequest } from './http.js';

/** An object the fake bucket serves. */
export interface FakeObject {
  readonly body: Buffer;
  readonly metadata?: Record<string, string>;
}

/** Faults to inject; each returns true when it handled the request. */
export type S3Fault = (request: SeenRequest, res: ServerResponse, s3: FakeS3) => boolean;

/**
 * A fake S3 (REST XML, path-style) with one or more buckets: ListObjectsV2 with prefix,
 * delimiter and continuation tokens (pages of `pageSize` keys), and GetObject with ETag,
 * Content-Length and x-amz-meta-* headers.
 */
export class FakeS3 {
  readonly buckets = new Map<string, Map<string, FakeObject>>();
  readonly faults: S3Fault[] = [];
  readonly server = new FakeServer((req, res) => this.handle(req, res));
  pageSize = 1000;

  put(bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): void {
    const objects = this.buckets.get(bucket) ?? new Map<string, FakeObject>();
    objects.set(key, { body, ...(metadata ? { metadata } : {}) });
    this.buckets.set(bucket, objects);
  }

  /** Prefixes of the ListObjectsV2 calls received, in order. */
  listedPrefixes(): string[] {
    return this.server.requests.filter((r) => r.query.get('list-type') === '2').map((r) => r.query.get('prefix') ?? '');
  }

  gets(): SeenRequest[] {
    return this.server.requests.filter((r) => r.method === 'GET' && r.query.get('list-type') !== '2');
  }

  /** Answers one request. */
  handle(req: SeenRequest, res: ServerResponse): void {
    for (const fault of this.faults) if (fault(req, res, this)) return;
    const [, bucket = '', ...rest] = req.path.split('/');
    const objects = this.buckets.get(bucket);
    if (!objects) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (req.query.get('list-type') === '2') return this.list(bucket, objects, req, res);
    const key = rest.join('/');
    const object = objects.get(key);
    if (!object) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': object.body.length,
      etag: etag(object.body),
      'last-modified': new Date(Date.UTC(2026, 2, 6)).toUTCString(),
    };
    for (const [name, value] of Object.entries(object.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
    res.writeHead(200, headers);
    res.end(object.body);
  }

  private list(bucket: string, objects: Map<string, FakeObject>, req: SeenRequest, res: ServerResponse): void {
    const prefix = req.query.get('prefix') ?? '';
    const delimiter = req.query.get('delimiter') ?? '';
    const after = req.query.get('continuation-token') ?? '';
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    const entries: Array<{ key: string } | { common: string }> = [];
    const commons = new Set<string>();
    for (const key of keys) {
      if (delimiter) {
        const cut = key.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          const common = key.slice(0, cut + delimiter.length);
          if (!commons.has(common)) {
            commons.add(common);
            entries.push({ common });
          }
          continue;
        }
      }
      entries.push({ key });
    }
    const name = (e: { key: string } | { common: string }) => ('key' in e ? e.key : e.common);
    const start = after ? entries.findIndex((e) => name(e) > after) : 0;
    const page = start < 0 ? [] : entries.slice(start, start + this.pageSize);
    const truncated = start >= 0 && start + this.pageSize < entries.length;
    const url = req.query.get('encoding-type') === 'url';
    const enc = (k: string) => xmlEscape(url ? encodeURIComponent(k).replace(/%2F/g, '/') : k);
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${this.pageSize}</MaxKeys>`,
      delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '',
      url ? '<EncodingType>url</EncodingType>' : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      ...page.map((e) => {
        if ('common' in e) return `<CommonPrefixes><Prefix>${enc(e.common)}</Prefix></CommonPrefixes>`;
        const body = objects.get(e.key)!.body;
        return `<Contents><Key>${enc(e.key)}</Key><LastModified>2026-03-06T00:00:00.000Z</LastModified><ETag>${xmlEscape(etag(body))}</ETag><Size>${body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      }),
      truncated ? `<NextContinuationToken>${xmlEscape(name(page[page.length - 1]!))}</NextContinuationToken>` : '',
      '</ListBucketResult>',
    ].join('');
    sendXml(res, 200, xml);
  }
}

/** The quoted MD5 ETag S3 gives a single-part object. */
export function etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** Sends an S3 XML error. */
export function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  sendXml(res, status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>fake</RequestId></Error>`);
}
