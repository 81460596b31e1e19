import { describe, expect, it } from 'vitest';
import { runDetections } from '../../src/detect/runner.js';
import { timespanSeconds } from '../../src/sigma/correlation.js';
import { loadSigmaRules } from '../../src/sigma/loader.js';
import { Store } from '../../src/store/store.js';
import { makeCall } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const ACCOUNT = '111122223333';
const user = (name: string) => ({ type: 'IAMUser', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, userName: name, accessKeyId: `AKIAEXAMPLE${name.toUpperCase().padEnd(9, 'X')}` });

/** A call at `minute` past 10:00 on the test day. */
function call(eventName: string, minute: number, who: string, more: Record<string, unknown> = {}) {
  const at = new Date(Date.UTC(2026, 2, 2, 10, 0, 0) + minute * 60_000).toISOString().replace('.000Z', 'Z');
  return makeCall(eventName, 'iam.amazonaws.com', { eventTime: at, userIdentity: user(who), sourceIPAddress: '198.51.100.7', ...more } as never);
}

const RULES = `title: Denied IAM call
id: 5f0e0000-0000-4000-8000-000000000001
name: denied_iam
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventSource: iam.amazonaws.com, errorCode: AccessDenied}
  condition: selection
---
title: User created
id: 5f0e0000-0000-4000-8000-000000000002
name: user_created
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventName: CreateUser}
  condition: selection
---
title: Access key created
id: 5f0e0000-0000-4000-8000-000000000003
name: key_created
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventName: CreateAccessKey}
  condition: selection
`;

/** Runs the correlation `yaml` (with the three rules above beside it) over `records`. */
async function run(yaml: string, records: readonly Record<string, unknown>[]) {
  const ws = new Workspace();
  const store = await Store.open(':memory:');
  try {
    ws.write('rules.yml', RULES);
    ws.write('correlation.yml', yaml);
    const catalog = loadSigmaRules([ws.path('.')]);
    await ingest(store, [ws.write('events.jsonl', jsonLines(records))]);
    const result = await runDetections(store, catalog.detections, {});
    return { catalog, result, findings: result.findings.filter((f) => f.detection.startsWith('sigma:5f0e0000-0000-4000-8000-0000000000c')) };
  } finally {
    store.close();
    ws.dispose();
  }
}

const eventCount = (more = '') => `title: Denied IAM calls in a burst
id: 5f0e0000-0000-4000-8000-0000000000c1
level: high
correlation:
  type: event_count
  rules: [denied_iam]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3}
${more}`;

const denied = (minute: number, who: string) => call('ListUsers', minute, who, { errorCode: 'AccessDenied', errorMessage: 'not authorized' });

describe('Sigma correlation rules', () => {
  it('reads timespans in s, m, h, d and w, and refuses others', () => {
    expect([timespanSeconds('90s'), timespanSeconds('5m'), timespanSeconds('1h'), timespanSeconds('2d'), timespanSeconds('1w')]).toEqual([90, 300, 3600, 172800, 604800]);
    expect(() => timespanSeconds('5 minutes')).toThrow(/not a number and a unit/);
    expect(() => timespanSeconds('0m')).toThrow();
  });

  it('event_count: three denied calls of one user within 10 minutes fire once, at the third, citing the three', async () => {
    const records = [denied(0, 'mallory'), denied(4, 'mallory'), denied(9, 'mallory'), denied(9, 'alice'), denied(10, 'alice')];
    const { findings, catalog } = await run(eventCount(), records);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.severity).toBe('high');
    expect(f!.resource).toBe(`arn:aws:iam::${ACCOUNT}:user/mallory`);
    expect(f!.eventTime).toBe('2026-03-02T10:09:00Z');
    expect([...f!.eventIds].sort()).toEqual([records[0]!['eventID'], records[1]!['eventID'], records[2]!['eventID']].sort());
    expect(f!.summary).toBe(`Denied IAM calls in a burst: 3 matching events within 10m for userIdentity.arn=arn:aws:iam::${ACCOUNT}:user/mallory, from 2026-03-02T10:00:00Z`);
    // The rule it names runs only inside it.
    expect(catalog.correlated).toEqual([{ id: '5f0e0000-0000-4000-8000-000000000001', path: expect.stringMatching(/rules\.yml$/), by: 'sigma:5f0e0000-0000-4000-8000-0000000000c1' }]);
    expect(catalog.detections.map((d) => d.id)).not.toContain('sigma:5f0e0000-0000-4000-8000-000000000001');
  });

  it('event_count: the same calls spread wider than the timespan stay silent, and a window across the hour is seen', async () => {
    expect((await run(eventCount(), [denied(0, 'mallory'), denied(6, 'mallory'), denied(11, 'mallory')])).findings).toEqual([]);
    // 10:58, 11:01, 11:03: no clock hour holds three, the sliding window does.
    expect((await run(eventCount(), [denied(58, 'mallory'), denied(61, 'mallory'), denied(63, 'mallory')])).findings).toHaveLength(1);
  });

  it('event_count: a long burst is one finding; a second burst after a quiet timespan is another', async () => {
    const burst = (from: number) => Array.from({ length: 6 }, (_, i) => denied(from + i, 'mallory'));
    const { findings } = await run(eventCount(), [...burst(0), ...burst(40)]);
    expect(findings.map((f) => f.eventTime)).toEqual(['2026-03-02T10:02:00Z', '2026-03-02T10:42:00Z']);
  });

  it('generate: true also runs the rules it names on their own', async () => {
    const { catalog } = await run(eventCount('  generate: true\n'), []);
    expect(catalog.detections.map((d) => d.id)).toContain('sigma:5f0e0000-0000-4000-8000-000000000001');
    expect(catalog.correlated).toBeUndefined();
  });

  it('value_count: one address acting as three users within 5 minutes fires; two users do not', async () => {
    const yaml = `title: One address, many users
id: 5f0e0000-0000-4000-8000-0000000000c2
correlation:
  type: value_count
  rules: [5f0e0000-0000-4000-8000-000000000001]
  group-by: [sourceIPAddress]
  timespan: 5m
  condition: {field: userIdentity.userName, gte: 3}
`;
    const fired = await run(yaml, [denied(0, 'alice'), denied(1, 'bob'), denied(2, 'bob'), denied(3, 'carol')]);
    expect(fired.findings).toHaveLength(1);
    expect(fired.findings[0]!.summary).toMatch(/: 3 distinct values of userIdentity\.userName within 5m for sourceIPAddress=198\.51\.100\.7/);
    expect(fired.findings[0]!.eventIds).toHaveLength(4);
    expect((await run(yaml, [denied(0, 'alice'), denied(1, 'bob'), denied(2, 'bob')])).findings).toEqual([]);
  });

  it('temporal: both rules matched by the same user within the timespan fire in either order; one rule, or two users, do not', async () => {
    const yaml = `title: User and key created together
id: 5f0e0000-0000-4000-8000-0000000000c3
correlation:
  type: temporal
  rules: [user_created, key_created]
  group-by: [userIdentity.arn]
  timespan: 15m
`;
    expect((await run(yaml, [call('CreateAccessKey', 0, 'mallory'), call('CreateUser', 10, 'mallory')])).findings).toHaveLength(1);
    expect((await run(yaml, [call('CreateUser', 0, 'mallory'), call('CreateUser', 10, 'mallory')])).findings).toEqual([]);
    expect((await run(yaml, [call('CreateUser', 0, 'mallory'), call('CreateAccessKey', 10, 'alice')])).findings).toEqual([]);
    expect((await run(yaml, [call('CreateUser', 0, 'mallory'), call('CreateAccessKey', 16, 'mallory')])).findings).toEqual([]);
  });

  it('temporal_ordered: the rules in their order fire; the reverse order does not', async () => {
    const yaml = `title: Denied, then user created
id: 5f0e0000-0000-4000-8000-0000000000c4
correlation:
  type: temporal_ordered
  rules: [denied_iam, user_created, key_created]
  group-by: [userIdentity.arn]
  timespan: 30m
`;
    const inOrder = [denied(0, 'mallory'), call('CreateUser', 5, 'mallory'), call('CreateAccessKey', 6, 'mallory')];
    const fired = await run(yaml, inOrder);
    expect(fired.findings).toHaveLength(1);
    expect([...fired.findings[0]!.eventIds].sort()).toEqual(inOrder.map((r) => r['eventID']).sort());
    expect(fired.findings[0]!.summary).toMatch(/: 3 rules matched in order within 30m/);
    expect((await run(yaml, [call('CreateAccessKey', 0, 'mallory'), call('CreateUser', 5, 'mallory'), denied(6, 'mallory')])).findings).toEqual([]);
    // In order but the chain spans more than the timespan.
    expect((await run(yaml, [denied(0, 'mallory'), call('CreateUser', 5, 'mallory'), call('CreateAccessKey', 31, 'mallory')])).findings).toEqual([]);
    // A later start that fits is found though an earlier one does not.
    expect((await run(yaml, [denied(0, 'mallory'), denied(20, 'mallory'), call('CreateUser', 25, 'mallory'), call('CreateAccessKey', 40, 'mallory')])).findings).toHaveLength(1);
  });

  it('aliases group events of different rules by different fields', async () => {
    const yaml = `title: Key created for the user who was denied
id: 5f0e0000-0000-4000-8000-0000000000c5
correlation:
  type: temporal
  rules: [denied_iam, key_created]
  group-by: [person]
  timespan: 1h
  aliases:
    person:
      denied_iam: userIdentity.userName
      key_created: requestParameters.userName
`;
    const records = [denied(0, 'mallory'), call('CreateAccessKey', 10, 'admin', { requestParameters: { userName: 'mallory' } })];
    const { findings } = await run(yaml, records);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.resource).toBe('mallory');
    expect((await run(yaml, [denied(0, 'mallory'), call('CreateAccessKey', 10, 'admin', { requestParameters: { userName: 'bob' } })])).findings).toEqual([]);
  });

  it('lists a correlation that cannot run with the reason, and runs the rules it names on their own', async () => {
    const cases: Array<[string, RegExp]> = [
      ['  type: event_count\n  rules: [no_such_rule]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition: {gte: 2}\n', /names the rule no_such_rule, which is not among the given paths/],
      ['  type: event_count\n  rules: [denied_iam]\n  group-by: [userIdentity.arn]\n  timespan: 5 minutes\n  condition: {gte: 2}\n', /timespan "5 minutes"/],
      ['  type: event_count\n  rules: [denied_iam]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n', /needs a condition/],
      ['  type: value_count\n  rules: [denied_iam]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition: {gte: 2}\n', /needs condition\.field/],
      ['  type: temporal\n  rules: [denied_iam, chained]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n', /chained correlations are not run/],
      ["  type: event_count\n  rules: [denied_iam]\n  group-by: [\"userIdentity.arn') or true --\"]\n  timespan: 5m\n  condition: {gte: 2}\n", /is not a dotted path of plain keys/],
    ];
    for (const [section, reason] of cases) {
      const yaml = `title: Broken\nid: 5f0e0000-0000-4000-8000-0000000000c9\ncorrelation:\n${section}---\ntitle: Chained\nid: 5f0e0000-0000-4000-8000-0000000000ca\nname: chained\ncorrelation:\n  type: event_count\n  rules: [denied_iam]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition: {gte: 2}\n  generate: true\n`;
      const { catalog } = await run(yaml, []);
      const broken = catalog.untranslated.find((u) => u.id === '5f0e0000-0000-4000-8000-0000000000c9');
      expect(broken?.reason, section).toMatch(reason);
      expect(catalog.detections.map((d) => d.id)).toContain('sigma:5f0e0000-0000-4000-8000-000000000001');
    }
  });

  it('a rule title with quotes reaches the SQL only as a literal', async () => {
    const yaml = eventCount().replace('title: Denied IAM calls in a burst', `title: "Burst' || (select 'x') || '"`);
    const { findings } = await run(yaml, [denied(0, 'mallory'), denied(1, 'mallory'), denied(2, 'mallory')]);
    expect(findings[0]!.summary!.startsWith(`Burst' || (select 'x') || ': 3 matching events`)).toBe(true);
  });
});
