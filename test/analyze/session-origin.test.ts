import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze/analyze.js';
import { duckdbSource } from '../../src/analyze/duckdb-source.js';
import { renderAnalyzeText } from '../../src/analyze/render.js';
import type { PivotSpec } from '../../src/analyze/types.js';
import type { Store } from '../../src/store/store.js';
import { ingest, sandbox } from '../helpers/store.js';
import { A, ATTACKER, ECS_KEY, LAMBDA_KEY, USER_KEY, at, stolenSessions } from '../helpers/stolen-sessions.js';
import type { Workspace } from '../helpers/workspace.js';

function spec(partial: Partial<PivotSpec>): PivotSpec {
  return { keys: [], ips: [], principals: [], sessions: [], ...partial };
}

describe('analyze: session keys traced to the call that minted them', () => {
  let ws: Workspace;
  let store: Store;
  sandbox((w, s) => {
    ws = w;
    store = s;
  });

  async function load(): Promise<void> {
    await ingest(store, [ws.write('trail.json', JSON.stringify({ Records: stolenSessions() }))]);
  }

  it('gives a Lambda session its AssumeRole, role, session name, expiry (old date format) and invoking service', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ keys: [LAMBDA_KEY] }));
    const [root] = result.lineage;
    expect(root!.origin).toMatchObject({ eventName: 'AssumeRole', eventTime: at(1), invoker: 'lambda.amazonaws.com', by: 'principal:lambda.amazonaws.com' });
    expect(root!.session).toEqual({ roleArn: `arn:aws:iam::${A}:role/fn-role`, sessionName: 'level3' });
    expect(root!.principalArn).toBe(`arn:aws:sts::${A}:assumed-role/fn-role/level3`);
    expect(root!.usability).toMatchObject({ status: 'expired', expiresAt: '2018-11-29T11:03:12Z' });
    expect(result.unmatched).toEqual([]);
    const text = renderAnalyzeText(result);
    expect(text).toContain('via AssumeRole 2018-11-29T10:01:00Z from lambda.amazonaws.com');
    expect(text).not.toContain('expiry not in the record');
  });

  it('gives an ECS task session (ISO expiry) and a user session their minting calls', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ keys: [ECS_KEY, USER_KEY] }));
    const [ecs, user] = result.lineage;
    expect(ecs!.origin).toMatchObject({ invoker: 'ecs-tasks.amazonaws.com' });
    expect(ecs!.session?.sessionName).toBe('a1b2c3');
    expect(ecs!.usability.expiresAt).toBe('2018-11-29T16:02:00Z');
    expect(user!.origin).toMatchObject({ eventName: 'GetSessionToken', invoker: `arn:aws:iam::${A}:user/alice`, by: 'key:AKIAALICE00000000001' });
    expect(user!.usability).toMatchObject({ status: 'usable', expiresAt: '2018-11-30T22:03:00Z' });
  });

  it('finds the minting call before the window asked for', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ keys: [LAMBDA_KEY], since: new Date(at(20)) }));
    expect(result.lineage[0]!.origin?.eventName).toBe('AssumeRole');
    expect(result.eventCount).toBe(1);
  });

  it('says which pivot values matched nothing, and never calls an unseen key usable', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ keys: ['AKIAEXAMPLE0000000000', LAMBDA_KEY] }));
    expect(result.unmatched).toEqual(['key AKIAEXAMPLE0000000000']);
    expect(result.lineage[0]!.usability).toEqual({ status: 'unknown', reason: 'not seen in the evidence' });
    expect(renderAnalyzeText(result)).toContain('Not in the evidence: key AKIAEXAMPLE0000000000');
  });

  it('lists the keys, sessions and principals that acted from an address', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ ips: [ATTACKER] }));
    expect(result.actors.map((a) => [a.accessKeyId, a.principalArn, a.count])).toEqual([
      [LAMBDA_KEY, `arn:aws:sts::${A}:assumed-role/fn-role/level3`, 1],
      [ECS_KEY, `arn:aws:sts::${A}:assumed-role/task-role/a1b2c3`, 1],
      [USER_KEY, `arn:aws:iam::${A}:user/alice`, 1],
      ['AKIAALICE00000000001', `arn:aws:iam::${A}:user/alice`, 1],
    ]);
    const text = renderAnalyzeText(result);
    expect(text).toContain('Keys, sessions and principals (4):');
    expect(text).toContain(`${ECS_KEY} as arn:aws:sts::${A}:assumed-role/task-role/a1b2c3 (AssumedRole): 1 event,`);
  });

  it('says a principal with nothing under it has nothing under it', async () => {
    await load();
    const result = await analyze(duckdbSource(store), spec({ principals: ['bob'] }));
    expect(result.lineage[0]!.usability.reason).toBe('a principal; it minted or created no credential in the evidence');
  });
});
