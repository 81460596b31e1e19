import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a fake service saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The region from the SigV4 credential scope of the Authorization header. */
  readonly region: string | undefined;
  /** The access key id from the Authorization header. */
  readonly accessKeyId: string | undefined;
  /** Milliseconds since the server started. */
  readonly at: number;
}

/** A local HTTP server on 127.0.0.1 that records every request and hands it to `handle`. */
export class FakeServer {
  readonly requests: SeenRequest[] = [];
  private server: Server | undefined;
  private readonly started = performance.now();

  constructor(private readonly handle: (request: SeenRequest, res: ServerResponse) => void | Promise<void>) {}

  /** Starts listening on a free port of 127.0.0.1; returns the endpoint URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const auth = String(req.headers['authorization'] ?? '');
        const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(auth);
        const seen: SeenRequest = {
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          region: scope?.[2],
          accessKeyId: scope?.[1],
          at: performance.now() - this.started,
        };
        this.requests.push(seen);
        Promise.resolve(this.handle(seen, res)).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Sends a JSON 1.1 response (CloudTrail, CloudWatch Logs). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': 'fake-request' });
  res.end(text);
}

/** Sends a JSON 1.1 error: `{"__type": code, "message": …}`. */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { __type: code, message });
}

/** Sends an XML response. */
export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml), 'x-amz-request-id': 'fake-request', ...headers });
  res.end(xml);
}

/** Escapes text for XML. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Environment for the AWS SDK in tests: fake credentials, a region, and no instance metadata lookups. */
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKETESTKEY00001',
  AWS_SECRET_ACCESS_KEY: 'fakeSecretKeyForTests0000000000000000000x',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
} as const;

/** Sets the fake AWS environment for the current process (tests call the API in-process). */
export function useFakeAwsEnv(): void {
  for (const [name, value] of Object.entries(FAKE_AWS_ENV)) process.env[name] = value;
  delete process.env['AWS_PROFILE'];
  delete process.env['AWS_SESSION_TOKEN'];
}

/** Which fake service a request is for: JSON 1.1 by its X-Amz-Target, EC2 by its form Action, else S3. */
export function serviceOf(req: SeenRequest): 'cloudtrail' | 'logs' | 'ec2' | 's3' {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.includes('CloudTrail_20131101')) return 'cloudtrail';
  if (target.startsWith('Logs_20140328')) return 'logs';
  if (req.method === 'POST' && /(^|&)Action=/.test(req.body)) return 'ec2';
  return 's3';
}
