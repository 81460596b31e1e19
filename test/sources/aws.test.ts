import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pacer, backoffDelay, classifyAwsError, homeRegion, redact, resolveHomeRegion, withRetries } from '../../src/sources/aws.js';

const awsError = (name: string, status: number, message = 'm') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('AWS error triage', () => {
  it('sorts errors into what the run should do, naming the missing permission', () => {
    expect(classifyAwsError(awsError('ThrottlingException', 400), 'x').kind).toBe('throttled');
    expect(classifyAwsError(awsError('SlowDown', 503), 'x').kind).toBe('throttled');
    expect(classifyAwsError(awsError('InternalError', 500), 'x').kind).toBe('transient');
    expect(classifyAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'x').kind).toBe('transient');
    expect(classifyAwsError(awsError('ExpiredTokenException', 400), 'x').kind).toBe('expired');
    expect(classifyAwsError(awsError('InvalidClientTokenId', 403), 'x').kind).toBe('credentials');
    expect(classifyAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'x').kind).toBe('credentials');
    expect(classifyAwsError(awsError('NoSuchBucket', 404), 'x').kind).toBe('not-found');
    const denied = classifyAwsError(awsError('AccessDenied', 403, 'Access Denied'), 's3:GetObject on arn:aws:s3:::b/*');
    expect(denied.kind).toBe('denied');
    expect(denied.reason).toBe('access denied (AccessDenied): the credentials lack s3:GetObject on arn:aws:s3:::b/* (Access Denied)');
  });

  it('never lets a secret, token or signature through', () => {
    const env = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLETOKEN' };
    const text = redact(
      `denied: Signature=${'a1'.repeat(32)}, X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&x=1 key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY token FwoGZXIvYXdzEXAMPLETOKEN ${'Zm9v'.repeat(30)}`,
      env,
    );
    expect(text).not.toMatch(/a1a1a1|IQoJb3Jp|wJalrXUtn|FwoGZXIv|Zm9vZm9v/);
    expect(redact('arn:aws:iam::111122223333:user/alice did GetObject')).toBe('arn:aws:iam::111122223333:user/alice did GetObject');
  });
});

describe('retries and pacing', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 100, () => 0)).toBe(50);
    expect(backoffDelay(3, 100, () => 1)).toBe(400);
    expect(backoffDelay(30, 100, () => 1)).toBe(20_000);
  });

  it('retries what may pass and gives up on what cannot', async () => {
    let calls = 0;
    const flaky = await withRetries(async () => (++calls < 3 ? Promise.reject(awsError('ThrottlingException', 400)) : 'ok'), { permission: 'x', maxAttempts: 5, backoffMs: 1 });
    expect(flaky).toEqual({ ok: true, value: 'ok', retries: 2 });
    calls = 0;
    const denied = await withRetries(async () => (++calls, Promise.reject(awsError('AccessDenied', 403))), { permission: 'x', maxAttempts: 5, backoffMs: 1 });
    expect(denied.ok).toBe(false);
    expect(calls).toBe(1);
  });

  it('spaces requests at least one interval apart', async () => {
    const pacer = new Pacer(50);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pacer.wait();
      times.push(performance.now());
    }
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(49);
  });
});

describe('the region API calls go to', () => {
  it('is --region, else the SDK configuration (environment, profile), else us-east-1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trailhound-aws-'));
    const saved = { ...process.env };
    try {
      writeFileSync(join(dir, 'config'), '[profile ir]\nregion = eu-central-1\n');
      process.env['AWS_CONFIG_FILE'] = join(dir, 'config');
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'credentials');
      delete process.env['AWS_REGION'];
      delete process.env['AWS_DEFAULT_REGION'];
      delete process.env['AWS_PROFILE'];
      expect(await resolveHomeRegion({ region: 'ap-south-1', profile: 'ir' })).toBe('ap-south-1');
      expect(await resolveHomeRegion({ profile: 'ir' })).toBe('eu-central-1');
      expect(await resolveHomeRegion({})).toBe('us-east-1');
      process.env['AWS_REGION'] = 'sa-east-1';
      expect(await resolveHomeRegion({})).toBe('sa-east-1');
      // The synchronous form reads only options and the environment.
      expect(homeRegion({ profile: 'ir' })).toBe('sa-east-1');
      expect(homeRegion({ region: 'eu-west-2' })).toBe('eu-west-2');
    } finally {
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
