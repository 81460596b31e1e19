import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog } from '../../src/detect/catalog.js';
import { Workspace } from '../helpers/workspace.js';

const SQL = `select eventtime, eventid, eventname, null as actor, access_key_id, sourceipaddress, recipientaccountid as account, awsregion as region, null as resource, 'success' as outcome, 'x' as summary from events where eventname = 'CreateUser'`;

function detection(ws: Workspace, extra: string): string {
  const dir = ws.path('queries', 'iam');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'iam_user_created.sql'), SQL);
  writeFileSync(
    join(dir, 'iam_user_created.yml'),
    `id: iam_user_created
title: IAM user created
description: A user was created.
severity: medium
tactics: [TA0003]
techniques: [T1136.003]
references: [https://example.com/]
falsePositives: [onboarding]
remediation: remove it
${extra}
tests:
  - name: fires
    expect: match
    events: [{ event: CreateUser }]
  - name: quiet
    expect: no-match
    events: [{ event: ListUsers }]
`,
  );
  return ws.path('queries');
}

describe('the engines metadata of a detection', () => {
  let ws: Workspace;
  afterEach(() => ws?.dispose());

  it('defaults to both engines', () => {
    ws = new Workspace();
    expect(loadCatalog(detection(ws, ''))[0]!.engines).toEqual(['duckdb', 'athena']);
  });

  it('may limit a detection to DuckDB, with the reason', () => {
    ws = new Workspace();
    const [d] = loadCatalog(detection(ws, 'engines: [duckdb]\nengineNote: uses list_distinct, which Trino spells array_distinct'));
    expect(d!.engines).toEqual(['duckdb']);
    expect(d!.engineNote).toBe('uses list_distinct, which Trino spells array_distinct');
  });

  it('needs the reason, needs DuckDB (where the tests run), and knows only the two engines', () => {
    ws = new Workspace();
    expect(() => loadCatalog(detection(ws, 'engines: [duckdb]'))).toThrow(/engineNote must say why/);
    ws.dispose();
    ws = new Workspace();
    expect(() => loadCatalog(detection(ws, 'engines: [athena]\nengineNote: x'))).toThrow(/engines must include duckdb/);
    ws.dispose();
    ws = new Workspace();
    expect(() => loadCatalog(detection(ws, 'engines: [duckdb, spark]'))).toThrow(CatalogError);
  });
});
