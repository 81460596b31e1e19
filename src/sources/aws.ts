/**
 * What every AWS source shares: client settings (default credential chain, profile, region,
 * endpoint), triage of AWS errors into one-line reasons, retries with backoff, request pacing,
 * and scrubbing of secrets from anything that may be printed.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { ExitCode, TrailhoundError } from '../core/errors.js';

/** How to reach AWS: all optional; the SDK's default chain fills in the rest. */
export interface AwsOptions {
  /** A profile from ~/.aws/config and ~/.aws/credentials. */
  readonly profile?: string;
  /** The region API calls go to when a source does not pick one itself. */
  readonly region?: string;
  /** Another endpoint for every service (LocalStack, MinIO, tests). */
  readonly endpointUrl?: string;
  /** Attempts per request before it counts as failed (default 5). */
  readonly maxAttempts?: number;
  /** Base delay of the exponential backoff between attempts, in ms (default 500). */
  readonly backoffMs?: number;
}

/** The profile a client will use: --profile, else AWS_PROFILE. */
export function profileInUse(options: AwsOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return options.profile ?? (env['AWS_PROFILE'] || undefined);
}

/** The section names of an AWS shared config or credentials file: `[name]` and `[profile name]`. */
export function profileNames(text: string): string[] {
  return [...text.matchAll(/^\s*\[\s*(?:profile\s+)?([^\]\s]+)\s*\]/gm)].map((m) => m[1]!);
}

/**
 * Refuses a named profile that neither shared file holds, before anything is created: the SDK
 * only says "Could not load credentials from any providers", which reads as if no profile were
 * set. Environment keys (AWS_ACCESS_KEY_ID) are not consulted when a profile is named, as in the SDK.
 */
export function checkProfile(options: AwsOptions, env: NodeJS.ProcessEnv = process.env): void {
  const profile = profileInUse(options, env);
  if (!profile || profile === 'default') return;
  const home = env['HOME'] ?? env['USERPROFILE'] ?? homedir();
  const files = [env['AWS_CONFIG_FILE'] ?? join(home, '.aws', 'config'), env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(home, '.aws', 'credentials')];
  const names = files.flatMap((file) => {
    try {
      return profileNames(readFileSync(file, 'utf8'));
    } catch {
      return [];
    }
  });
  if (!names.includes(profile)) {
    const from = options.profile ? '--profile' : 'AWS_PROFILE';
    throw new AwsCredentialsError(`AWS profile "${profile}" (from ${from}) is not in ${files.join(' or ')}; check the name ("aws configure list-profiles" lists them) or unset ${from}`);
  }
}

/** The region used when neither the options nor the environment name one. */
export const FALLBACK_REGION = 'us-east-1';

/** The region API calls go to, without reading config files: --region, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
export function homeRegion(options: AwsOptions, env: NodeJS.ProcessEnv = process.env): string {
  return options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? FALLBACK_REGION;
}

/**
 * The region API calls go to: --region, else what the SDK finds (AWS_REGION, the profile's
 * `region` in ~/.aws/config), else us-east-1.
 */
export async function resolveHomeRegion(options: AwsOptions): Promise<string> {
  if (options.region) return options.region;
  const probe = new CloudTrailClient({ ...(options.profile ? { profile: options.profile } : {}) });
  try {
    return (await probe.config.region()) || FALLBACK_REGION;
  } catch {
    return FALLBACK_REGION;
  } finally {
    probe.destroy();
  }
}

/**
 * The configuration shared by every SDK client. The SDK's own retries are turned off: each
 * source retries itself, so that pacing, backoff and the record of failures stay in one place.
 */
export function clientConfig(options: AwsOptions, region: string): {
  region: string;
  maxAttempts: number;
  profile?: string;
  endpoint?: string;
} {
  return {
    region,
    maxAttempts: 1,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  };
}

/** What an AWS error means for the run. */
export type AwsErrorKind =
  | 'throttled' // slow down and retry
  | 'transient' // 5xx, reset connection, timeout: retry
  | 'denied' // this call is not allowed: record and go on
  | 'not-found' // no such bucket / log group / key
  | 'expired' // the session token expired: nothing more will work
  | 'credentials' // no credentials, or credentials AWS does not accept
  | 'invalid-token' // a pagination token AWS no longer accepts
  | 'other';

/** An AWS error sorted out: its kind, its code, and a one-line reason that says what to do. */
export interface AwsFailure {
  readonly kind: AwsErrorKind;
  readonly code: string;
  readonly reason: string;
}

const THROTTLE_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
]);
const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess', 'AuthFailure', 'OptInRequired', 'InvalidClientTokenId.OptIn']);
const EXPIRED_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const CREDENTIAL_CODES = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'MissingAuthenticationToken', 'InvalidToken']);
const NOT_FOUND_CODES = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'ResourceNotFoundException']);
const TRANSIENT_NAMES = new Set(['TruncatedBodyError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalError', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException', 'ServiceException', 'InternalServerError', 'BadGateway']);

/**
 * Sorts an AWS (or network) error. `permission` names the IAM action the failed call needs,
 * so that a denial says which permission is missing.
 */
export function classifyAwsError(error: unknown, permission: string): AwsFailure {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string; $response?: { statusCode?: number } };
  const code = String(e?.name && e.name !== 'Error' ? e.name : e?.code ?? 'Error');
  const status = e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
  const message = redact(String(e?.message ?? error)).split('\n')[0] ?? '';
  const short = message.length > 160 ? `${message.slice(0, 157)}...` : message;
  if (code === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    const profile = process.env['AWS_PROFILE'];
    return {
      kind: 'credentials',
      code,
      reason: profile
        ? `no AWS credentials found for profile "${profile}" (AWS_PROFILE): its keys or SSO session may be missing or expired; run "aws sso login --profile ${profile}" or check ~/.aws/config`
        : 'no AWS credentials found; set AWS_PROFILE or pass --profile, run "aws sso login", or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    };
  }
  if (EXPIRED_CODES.has(code) || /expired/i.test(code)) {
    return { kind: 'expired', code, reason: `the AWS session token has expired (${code}); refresh the credentials (e.g. "aws sso login") and run the same command again to resume` };
  }
  if (CREDENTIAL_CODES.has(code)) {
    return { kind: 'credentials', code, reason: `AWS rejected the credentials (${code}); check the profile or keys in use` };
  }
  if (code === 'InvalidNextTokenException' || code === 'InvalidNextToken') {
    return { kind: 'invalid-token', code, reason: `AWS no longer accepts the saved pagination token (${code})` };
  }
  if (THROTTLE_CODES.has(code) || status === 429 || status === 503 && code === 'SlowDown') {
    return { kind: 'throttled', code, reason: `throttled by AWS (${code}) after every retry; run the same command again later to resume` };
  }
  if (DENIED_CODES.has(code) || status === 403) {
    return { kind: 'denied', code, reason: `access denied (${code}): the credentials lack ${permission}${short ? ` (${short})` : ''}` };
  }
  if (NOT_FOUND_CODES.has(code)) {
    return { kind: 'not-found', code, reason: `not found (${code}${short ? `: ${short}` : ''})` };
  }
  const network = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|aborted|premature close|terminated|other side closed/i.test(`${code} ${message}`);
  if (TRANSIENT_NAMES.has(code) || network || (status !== undefined && status >= 500) || e?.$fault === 'server') {
    return { kind: 'transient', code, reason: `AWS or the network failed after every retry (${code}${status ? ` ${status}` : ''}${short ? `: ${short}` : ''}); run the same command again to resume` };
  }
  return { kind: 'other', code, reason: `${code}${short && short !== code ? `: ${short}` : ''}` };
}

/** Whether a failure is worth another attempt. */
export function isRetryable(failure: AwsFailure): boolean {
  return failure.kind === 'throttled' || failure.kind === 'transient';
}

/** No credentials, or credentials AWS rejects: nothing can be fetched. */
export class AwsCredentialsError extends TrailhoundError {
  constructor(reason: string, options?: ErrorOptions) {
    super('AWS_CREDENTIALS', reason, ExitCode.usage, options);
  }
}

/** The bucket, log group or other resource named on the command line does not exist. */
export class AwsResourceNotFoundError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('AWS_NOT_FOUND', message, ExitCode.usage, options);
  }
}

/** Removes request signatures, secret keys and session tokens from text that may be shown. */
export function redact(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN']) {
    const value = env[name];
    if (value && value.length >= 8) out = out.split(value).join('[redacted]');
  }
  return out
    .replace(/(Signature|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Credential)=([^,&\s"']+)/gi, '$1=[redacted]')
    .replace(/(aws_secret_access_key|aws_session_token|SecretAccessKey|SessionToken)(["'\s:=]+)([^\s"',]+)/gi, '$1$2[redacted]')
    .replace(/[A-Za-z0-9/+=]{100,}/g, '[redacted]')
    .replace(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g, (m) => (/[a-z]/.test(m) && /[A-Z]/.test(m) && /\d/.test(m) ? '[redacted]' : m));
}

/** Waits `ms`, or less if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The backoff before attempt `attempt` (1-based retry count): exponential with full jitter, capped at 20 s. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(20_000, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The result of a call with retries: the value, or the failure that ended the attempts. */
export type Attempted<T> = { readonly ok: true; readonly value: T; readonly retries: number } | { readonly ok: false; readonly failure: AwsFailure; readonly error: unknown; readonly retries: number };

/**
 * Calls `fn` until it succeeds, fails for a reason retrying cannot fix, or runs out of
 * attempts; throttling and transient errors back off exponentially. `beforeAttempt` runs
 * before every attempt (a pacer's wait, say).
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  settings: { readonly permission: string; readonly maxAttempts: number; readonly backoffMs: number; readonly signal?: AbortSignal; readonly beforeAttempt?: () => Promise<void>; readonly onRetry?: (failure: AwsFailure) => void },
): Promise<Attempted<T>> {
  let retries = 0;
  for (let attempt = 1; ; attempt++) {
    await settings.beforeAttempt?.();
    try {
      return { ok: true, value: await fn(), retries };
    } catch (error) {
      const failure = classifyAwsError(error, settings.permission);
      if (!isRetryable(failure) || attempt >= settings.maxAttempts || settings.signal?.aborted) return { ok: false, failure, error, retries };
      retries++;
      settings.onRetry?.(failure);
      await sleep(backoffDelay(attempt, failure.kind === 'throttled' ? settings.backoffMs * 2 : settings.backoffMs), settings.signal);
    }
  }
}

/**
 * Spaces requests at least `intervalMs` apart (one pacer per rate limit, e.g. per region for
 * LookupEvents). Waiters are served in order.
 */
export class Pacer {
  private next: number;
  /** `offsetMs` delays the first slot (to stagger pacers that start together). */
  constructor(
    readonly intervalMs: number,
    offsetMs = 0,
  ) {
    this.next = performance.now() + offsetMs;
  }

  /** Resolves when the caller may send its request. */
  async wait(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    // Timers run on a millisecond clock and may fire a fraction early: sleep until the slot has truly come.
    for (let left = at - now; left > 0 && !signal?.aborted; left = at - performance.now()) await sleep(Math.ceil(left), signal);
    // A busy event loop releases late: space the next request from when this one really goes.
    this.next = Math.max(this.next, performance.now() + this.intervalMs);
  }

  /** Pushes the next slot back (after a throttling response, say). */
  delay(ms: number): void {
    this.next = Math.max(this.next, performance.now() + ms);
  }
}

/** Serialises async work on one resource (the store's single connection, say). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after everything queued before it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
