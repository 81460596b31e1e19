/**
 * Severity from context: a change the same principal makes with the same client time after
 * time (an apply, a deploy) is routine and low; the first one, one made with another client,
 * or a burst within minutes keeps the detection's severity.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/detect/catalog.js';
import { evaluate } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { Random } from '../../synth/random.js';
import { assumedRoleIdentity, makeCall, type RecordOverrides } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const catalog = loadCatalog(join(import.meta.dirname, '..', '..', 'queries'));

const CALIBRATED: ReadonlyArray<readonly [string, string, string, Record<string, unknown>]> = [
  ['iam_inline_policy_put', 'PutRolePolicy', 'iam.amazonaws.com', { roleName: 'app', policyName: 'read-config' }],
  ['iam_managed_policy_attached', 'AttachRolePolicy', 'iam.amazonaws.com', { roleName: 'app', policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }],
  ['iam_role_created', 'CreateRole', 'iam.amazonaws.com', { roleName: 'app' }],
  ['lambda_function_created', 'CreateFunction20150331', 'lambda.amazonaws.com', { functionName: 'app', role: 'arn:aws:iam::111122223333:role/app' }],
  ['lambda_function_code_updated', 'UpdateFunctionCode20150331v2', 'lambda.amazonaws.com', { functionName: 'app' }],
  ['s3_bucket_encryption_changed', 'PutBucketEncryption', 's3.amazonaws.com', { bucketName: 'acme-app' }],
];

const TERRAFORM = 'APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0';
const CURL_LIKE = 'python-requests/2.31.0';

/** Two calls by sessions of one role, `minutes` apart, with these clients. */
async function severities(id: string, name: string, source: string, params: Record<string, unknown>, minutes: number, agents: readonly [string, string]): Promise<string[]> {
  const rng = new Random(`${id}/${minutes}/${agents.join()}`);
  const call = (i: number): RecordOverrides => {
    const time = new Date(Date.UTC(2026, 2, 2, 10, i * minutes)).toISOString().replace('.000Z', 'Z');
    return { eventTime: time, userAgent: agents[i], sourceIPAddress: '192.0.2.80', requestParameters: params, userIdentity: assumedRoleIdentity({ account: '111122223333', roleName: 'terraform-ci', sessionName: `run-${i}`, accessKeyId: rng.accessKeyId('ASIA'), creationDate: time }) };
  };
  const ws = new Workspace();
  const store = await Store.open(':memory:');
  try {
    await ingest(store, [ws.write('calls.jsonl', jsonLines([0, 1].map((i) => makeCall(name, source, call(i), rng))))]);
    const detection = catalog.find((d) => d.id === id)!;
    return (await evaluate(store, detection)).sort((a, b) => (a.eventTime! < b.eventTime! ? -1 : 1)).map((f) => f.severity);
  } finally {
    store.close();
    ws.dispose();
  }
}

describe('routine changes are low, the rest keep their severity', () => {
  it.each(CALIBRATED)('%s', async (id, name, source, params) => {
    const base = catalog.find((d) => d.id === id)!.severity;
    expect(base === 'medium' || base === 'high').toBe(true);
    // The same role and client, two hours later: the second is routine.
    expect(await severities(id, name, source, params, 120, [TERRAFORM, TERRAFORM])).toEqual([base, 'low']);
    // Another client from the same role (a stolen session used with a script): not routine.
    expect(await severities(id, name, source, params, 120, [TERRAFORM, CURL_LIKE])).toEqual([base, base]);
    // A burst within minutes is not a routine: both keep the severity.
    expect(await severities(id, name, source, params, 10, [TERRAFORM, TERRAFORM])).toEqual([base, base]);
  });
});
