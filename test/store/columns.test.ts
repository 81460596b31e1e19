import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/pipeline.js';
import { EVENT_COLUMNS, STORED_COLUMNS, athenaProjection, type EventColumn } from '../../src/store/columns.js';
import { Store, toPlainRow } from '../../src/store/store.js';
import { Workspace, recordsFile } from '../helpers/workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.dispose());

/** A record with a distinct value at every path the registry names. */
function fullRecord(): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const c of EVENT_COLUMNS as readonly EventColumn[]) {
    let node = record;
    c.path.forEach((key, i) => {
      if (i < c.path.length - 1) {
        node = (node[key] ??= {}) as Record<string, unknown>;
        return;
      }
      if (key in node) return;
      node[key] =
        c.kind === 'time' ? '2026-03-04T05:06:07Z'
        : c.kind === 'boolean' ? true
        : c.kind === 'json' ? { marker: c.name }
        : `${c.name}-value`;
    });
  }
  return record;
}

function valueAt(record: Record<string, unknown>, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], record);
}

describe('the column registry', () => {
  it('names each column once and every derived column after the stored ones', () => {
    const names = EVENT_COLUMNS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    const firstDerived = EVENT_COLUMNS.findIndex((c) => !c.stored);
    expect(EVENT_COLUMNS.slice(firstDerived).every((c) => !c.stored)).toBe(true);
  });

  it('is what a new store holds and what the events view gives, and each column reads its field back', async () => {
    const record = fullRecord();
    const store = await Store.open(ws.path('s.duckdb'));
    try {
      await ingestFiles({ paths: [ws.write('r.json', recordsFile([record as never]))], store });
      const segment = await store.all<{ column_name: string }>(`select column_name from duckdb_columns() where table_name = 'event_rows_0' order by column_index`);
      expect(segment.map((r) => r.column_name)).toEqual([...STORED_COLUMNS.map((c) => c.name), 'input_id', 'run_id', 'record_index', 'record']);
      const row = toPlainRow((await store.one('select * from events'))!);
      expect(Object.keys(row).filter((k) => !['input_id', 'run_id', 'record_index', 'record'].includes(k))).toEqual(EVENT_COLUMNS.map((c) => c.name));
      for (const c of EVENT_COLUMNS as readonly EventColumn[]) {
        const expected = valueAt(record, c.path);
        const actual = row[c.name];
        if (c.kind === 'time') expect(new Date(actual as string).toISOString(), c.name).toBe('2026-03-04T05:06:07.000Z');
        else if (c.kind === 'json') expect(typeof actual === 'string' ? JSON.parse(actual) : actual, c.name).toEqual(expected);
        else expect(actual, c.name).toEqual(expected);
      }
    } finally {
      store.close();
    }
  });

  it('gives Athena every column its CloudTrail table can answer, NULL where an older table lacks one', () => {
    const all = ['eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent', 'errorcode', 'errormessage', 'requestparameters', 'responseelements', 'requestid', 'eventid', 'eventtype', 'recipientaccountid', 'readonly', 'sharedeventid', 'apiversion', 'managementevent', 'vpcendpointid', 'eventcategory', 'sessioncredentialfromconsole', 'additionaleventdata', 'serviceeventdetails'];
    const full = new Map(athenaProjection(all));
    expect([...full.keys()]).toEqual(EVENT_COLUMNS.filter((c) => (c as EventColumn).athena !== null).map((c) => c.name));
    expect(full.get('principal_arn')).toBe('useridentity.arn');
    expect(full.get('session_issuer_arn')).toBe('useridentity.sessioncontext.sessionissuer.arn');
    expect(full.get('eventtime')).toBe('try(from_iso8601_timestamp(eventtime))');
    expect(full.get('readonly')).toBe("(lower(cast(readonly as varchar)) = 'true')");
    const old = new Map(athenaProjection(all.filter((c) => !['readonly', 'sharedeventid', 'additionaleventdata'].includes(c))));
    expect(old.get('readonly')).toBe('cast(null as boolean)');
    expect(old.get('sharedeventid')).toBe('cast(null as varchar)');
    expect(old.get('additionaleventdata')).toBe('cast(null as varchar)');
    expect(old.size).toBe(full.size);
  });
});
