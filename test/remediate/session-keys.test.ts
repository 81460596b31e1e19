import { describe, expect, it } from 'vitest';
import { shippedCatalog, shippedSensitiveEvents } from '../../src/cli/detect-command.js';
import { runDetections } from '../../src/detect/runner.js';
import { planFromStore } from '../../src/report/from-store.js';
import { renderPlanMarkdown } from '../../src/report/plan-renderers.js';
import type { RemediationAction } from '../../src/remediate/types.js';
import type { Store } from '../../src/store/store.js';
import { ingest, sandbox } from '../helpers/store.js';
import { A, ECS_KEY, INSTANCE_KEY, LAMBDA_KEY, USER_KEY, stolenSessions } from '../helpers/stolen-sessions.js';
import type { Workspace } from '../helpers/workspace.js';

const CONTAINED = new Date('2018-11-29T20:30:00Z');

describe('remediate --key ASIA…: the plan for stolen session keys', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => {
    ws = w;
    store = s;
  });

  async function plan(keys: string[]) {
    await ingest(store, [ws.write('trail.json', JSON.stringify({ Records: stolenSessions() }))]);
    await runDetections(store, shippedCatalog(), { sensitive: shippedSensitiveEvents() });
    const result = await planFromStore(store, { keys, containedAt: CONTAINED });
    return { plan: result, actions: result.steps.flatMap((s) => s.actions) };
  }

  it('revokes the sessions of the Lambda and ECS roles and fixes the function and the task', async () => {
    const { plan: p, actions } = await plan([LAMBDA_KEY, ECS_KEY]);
    expect(p.exposedKeys).toEqual([ECS_KEY, LAMBDA_KEY]);
    const revoke = actions.filter((a) => a.kind === 'revoke-role-sessions');
    expect(revoke.map((a) => a.target)).toEqual([`arn:aws:iam::${A}:role/fn-role`, `arn:aws:iam::${A}:role/task-role`]);
    expect(revoke[0]!.command).toContain('put-role-policy --role-name=fn-role --policy-name AWSRevokeOlderSessions');
    expect(revoke[0]!.policy?.Statement[0]?.Condition?.DateLessThan['aws:TokenIssueTime']).toBe('2018-11-29T20:30:00Z');
    expect(revoke[0]!.reason).toContain(`${LAMBDA_KEY} (expired, expiry 2018-11-29T11:03:12Z)`);
    const fn = actions.find((a) => a.kind === 'fix-leaking-function')!;
    expect(fn).toMatchObject({ target: 'level3', step: 'temporary-credentials' });
    expect(fn.command).toBe('aws lambda get-function-configuration --function-name=level3 --region=us-east-1');
    expect(actions.find((a) => a.kind === 'fix-leaking-task')?.target).toBe('a1b2c3');
    // No long-term key is exposed, so nothing is deactivated.
    expect(actions.some((a) => a.kind === 'deactivate-access-key')).toBe(false);
    expect(renderPlanMarkdown(p)).toContain(`Exposed keys: ${ECS_KEY}, ${LAMBDA_KEY}.`);
  });

  it('requires IMDSv2 on the instance whose profile credentials leaked', async () => {
    const { actions } = await plan([INSTANCE_KEY]);
    const fix = actions.find((a) => a.kind === 'fix-leaking-instance')!;
    expect(fix.command).toBe('aws ec2 modify-instance-metadata-options --instance-id=i-0abc1234def567890 --http-tokens required --region=us-east-1');
  });

  it('denies the sessions of a user whose GetSessionToken minted the key', async () => {
    const { actions } = await plan([USER_KEY]);
    const deny = actions.find((a: RemediationAction) => a.kind === 'deny-sessions-issued-before')!;
    expect(deny.target).toBe(`arn:aws:iam::${A}:user/alice`);
    expect(deny.reason).toContain(USER_KEY);
    expect(actions.some((a) => a.kind.startsWith('fix-leaking'))).toBe(false);
  });

  it('asks AWS who owns a session key whose owner the evidence does not name', async () => {
    const { actions } = await plan(['ASIANOWHERETOBESEEN1']);
    expect(actions.find((a) => a.kind === 'find-session-owner')?.command).toBe('aws sts get-access-key-info --access-key-id=ASIANOWHERETOBESEEN1');
  });
});
