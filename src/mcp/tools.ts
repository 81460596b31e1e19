/**
 * The MCP tools: each a thin layer over the library call the matching command makes, with
 * a zod schema for its arguments and its answer, and a hard limit on what it returns.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { duckdbSource } from '../analyze/duckdb-source.js';
import { MAX_LINEAGE_DEPTH } from '../analyze/analyze.js';
import { storeCoverage } from '../analyze/coverage.js';
import { analyzeOn } from '../cli/analyze-command.js';
import { shippedCatalog } from '../cli/detect-command.js';
import { parseScope } from '../cli/options.js';
import { reportOptions } from '../cli/report-commands.js';
import { runQuery } from '../store/query.js';
import { storeStats } from '../store/stats.js';
import { QueryError, UsageError } from '../core/errors.js';
import { latestDetectRun, loadAlerts } from '../detect/alerts.js';
import type { Finding } from '../detect/finding.js';
import { SEVERITIES } from '../detect/catalog.js';
import { loadFindings, planFromStore, timelineFromStore } from '../report/from-store.js';
import { renderPlanMarkdown } from '../report/plan-renderers.js';
import { renderTimelineMarkdown } from '../report/timeline-renderers.js';
import type { Store } from '../store/store.js';
import { envelope, envelopeSchema, markdownDocument, toolResult, type Envelope } from './envelope.js';
import { loadRecords, searchEvents } from './evidence.js';

/** Hard limits on what one call returns; an answer cut at one says so in its notes. */
export const LIMITS = {
  findings: { default: 200, max: 2_000 },
  analyzeEvents: { default: 200, max: 5_000 },
  events: { max: 100 },
  search: { default: 50, max: 500 },
  query: { default: 200, max: 2_000, defaultSeconds: 30, maxSeconds: 300 },
  timelineRows: { default: 200, max: 2_000 },
} as const;

/** How tools reach the store: opened read-only for one call, then closed, so an ingest can take it between calls. */
export interface ToolContext {
  withStore<T>(use: (store: Store) => Promise<T>): Promise<T>;
  /** The result of a call that failed: a known error as its message, anything else logged and reported as unexpected. */
  fail(error: unknown): CallToolResult;
}

const text = (max: number) => z.string().min(1).max(max);
const list = (what: string) => z.array(text(2_048)).min(1).max(100).optional().describe(what);
const time = (what: string) => text(64).optional().describe(`${what}: ISO-8601 UTC (2026-03-04 or 2026-03-04T10:00:00Z) or a span back from now (30d, 12h, 45m)`);
const limit = (l: { readonly default: number; readonly max: number }, what: string) =>
  z.number().int().min(1).max(l.max).optional().describe(`${what} (default ${l.default}, at most ${l.max})`);
const severity = z.enum(SEVERITIES);

const pivotShape = {
  key: list('access key ids (AKIA… long-term, ASIA… session)'),
  ip: list('source addresses or CIDR blocks'),
  principal: list('principal ARNs, IAM user names or role names'),
  session: list('session keys (ASIA…) or role session names'),
  since: time('only events at or after this time'),
  until: time('only events before this time'),
};

const reportShape = {
  ...pivotShape,
  min_severity: severity.optional().describe('only findings at or above this severity'),
  format: z.enum(['markdown', 'json']).optional().describe('markdown (default): the document as the command writes it; json: the structure behind it'),
};

const looseObject = z.record(z.string(), z.unknown());
const table = z.object({ columns: z.array(z.string()), rows: z.array(looseObject) });
const ranked = table.extend({ total: z.number() });
const document = z.object({ format: z.literal('markdown'), markdown: z.string() });

const findingSchema = z.object({
  detection: z.string(),
  title: z.string(),
  severity,
  outcome: z.enum(['success', 'attempt']),
  tactics: z.array(z.string()),
  techniques: z.array(z.string()),
  eventIds: z.array(z.string()),
  eventTime: z.string().nullable(),
  eventName: z.string().nullable(),
  actor: z.string().nullable(),
  accessKeyId: z.string().nullable(),
  sourceIp: z.string().nullable(),
  account: z.string().nullable(),
  region: z.string().nullable(),
  resource: z.string().nullable(),
  summary: z.string().nullable(),
});

const eventSchema = z.looseObject({
  eventId: z.string().nullable(),
  eventTime: z.string(),
  eventName: z.string(),
  eventSource: z.string(),
  provenance: z.object({ uri: z.string(), sha256: z.string().nullable(), recordIndex: z.number().nullable(), runId: z.string() }).nullable(),
});

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Registers every tool on `server`. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
  const tool = <I extends z.ZodRawShape, O extends z.ZodRawShape>(
    name: string,
    config: { readonly title: string; readonly description: string; readonly inputSchema: I; readonly outputSchema: O },
    run: (args: z.output<z.ZodObject<I>>) => Promise<Envelope>,
  ) =>
    server.registerTool(name, { ...config, annotations: readOnly }, (async (args: z.output<z.ZodObject<I>>) => {
      try {
        return toolResult(await run(args));
      } catch (error) {
        return ctx.fail(error);
      }
    }) as never);

  tool(
    'store_summary',
    {
      title: 'What the store holds',
      description: 'Totals of the evidence store (events, time span, inputs, ingest runs), events by account, region, day and event source, and the coverage gaps (logging stopped, files skipped, digests missing): what was not seen. Start here.',
      inputSchema: {},
      // Loose: what stats counts grows, and a new count must not break the answer.
      outputSchema: envelopeSchema(
        z.looseObject({
          events: z.number(),
          firstEventTime: z.string().nullable(),
          lastEventTime: z.string().nullable(),
          inputs: z.object({ loaded: z.number(), skipped: z.number(), digests: z.number() }),
          runs: z.number(),
          byAccount: table,
          byRegion: table,
          byDay: table,
          bySource: table,
          byKey: ranked,
          byPrincipal: ranked,
          byAddress: ranked,
          coverage: looseObject,
        }),
      ),
    },
    async () =>
      ctx.withStore(async (store) => {
        const stats = await storeStats(store);
        const coverage = await storeCoverage(store, {});
        const summary = `The store holds ${plural(stats.events, 'event')} from ${stats.firstEventTime ?? '-'} to ${stats.lastEventTime ?? '-'}, in ${plural(stats.byAccount.rows.length, 'account')} and ${plural(stats.byRegion.rows.length, 'region')}; ${plural(stats.inputs.loaded, 'input')} loaded, ${stats.inputs.skipped} skipped; ${plural(coverage.gaps.length, 'coverage gap')}.`;
        return envelope(summary, { ...stats, coverage }, { notes: ['Counts cover the whole store; use search_events or query to cite the events behind a count.'] });
      }),
  );

  tool(
    'list_detections',
    {
      title: 'The detection catalog',
      description: 'The detections trailhound runs (id, title, severity, ATT&CK tactics and techniques, why it matters, false positives, remediation). The SQL of each is in the resource trailhound://detections.',
      inputSchema: { min_severity: severity.optional().describe('only detections at or above this severity') },
      outputSchema: envelopeSchema(z.array(looseObject)),
    },
    async ({ min_severity }) => {
      const floor = SEVERITIES.indexOf(min_severity ?? 'info');
      const detections = shippedCatalog()
        .filter((d) => SEVERITIES.indexOf(d.severity) >= floor)
        .map(({ sql: _sql, path: _path, tests: _tests, ...meta }) => meta);
      return envelope(`${plural(detections.length, 'detection')} in the catalog.`, detections);
    },
  );

  tool(
    'alerts',
    {
      title: 'Alerts of the latest detect run',
      description: 'The alerts of the latest `trailhound detect`: raw matches grouped by detection, key or actor, address and resource within an hour, each with its count, first and last time and every event id. Read these first; findings gives the raw matches. Filters: severity floor, detection ids, time window, access keys, source addresses.',
      inputSchema: detectionFilterShape(LIMITS.findings, 'alerts returned at most'),
      outputSchema: envelopeSchema(z.object({ alerts: z.array(findingSchema.extend({ count: z.number(), firstTime: z.string().nullable(), lastTime: z.string().nullable() })), matched: z.number() })),
    },
    async (args) => {
      const scope = parseScope({ ...(args.since ? { since: args.since } : {}), ...(args.until ? { until: args.until } : {}) });
      return ctx.withStore(async (store) => {
        if (!(await latestDetectRun(store))) throw new UsageError(`no alerts in ${store.path}: run "trailhound detect --db ${store.path}" first`);
        const all = await loadAlerts(store, { ...scope, ...(args.min_severity ? { minSeverity: args.min_severity } : {}) });
        return detectionAnswer('alert', all.filter(detectionFilter(args)), args.limit ?? LIMITS.findings.default, (alerts, matched) => ({ alerts, matched }));
      });
    },
  );

  tool(
    'findings',
    {
      title: 'Findings (raw matches) of the latest detect run',
      description: 'The raw matches stored by the latest `trailhound detect`, by time, each with the event ids it rests on (alerts groups them). Filters: severity floor, detection ids, time window, access keys, source addresses.',
      inputSchema: detectionFilterShape(LIMITS.findings, 'findings returned at most'),
      outputSchema: envelopeSchema(z.object({ findings: z.array(findingSchema), matched: z.number() })),
    },
    async (args) => {
      const scope = parseScope({ ...(args.since ? { since: args.since } : {}), ...(args.until ? { until: args.until } : {}) });
      return ctx.withStore(async (store) => {
        const all = await loadFindings(store, { ...scope, ...(args.min_severity ? { minSeverity: args.min_severity } : {}) });
        return detectionAnswer('finding', all.filter(detectionFilter(args)), args.limit ?? LIMITS.findings.default, (findings, matched) => ({ findings, matched }));
      });
    },
  );

  tool(
    'analyze',
    {
      title: 'Follow a key, address, principal or session',
      description: 'What `trailhound analyze` answers: the pivot\'s activity (services, calls, addresses, user agents, regions), the credentials it minted or created followed in turn (lineage, with whether each is still usable), what it created or changed (blast radius), the store\'s coverage, and the events of the whole lineage with their ids.',
      inputSchema: {
        ...pivotShape,
        account: list('only these 12-digit account ids'),
        region: list('only these regions'),
        depth: z.number().int().min(0).max(MAX_LINEAGE_DEPTH).optional().describe('credential hops to follow (default 5)'),
        max_events: limit(LIMITS.analyzeEvents, 'lineage events listed at most; counts are always whole'),
      },
      outputSchema: envelopeSchema(
        z.looseObject({ pivot: looseObject, eventCount: z.number(), lineage: z.array(looseObject), derivedKeys: z.array(looseObject), events: z.array(looseObject), eventsTruncated: z.boolean() }),
      ),
    },
    async (args) => {
      const opts = {
        format: 'json' as const,
        ...(args.key ? { key: args.key } : {}),
        ...(args.ip ? { ip: args.ip } : {}),
        ...(args.principal ? { principal: args.principal } : {}),
        ...(args.session ? { session: args.session } : {}),
        ...(args.since ? { since: args.since } : {}),
        ...(args.until ? { until: args.until } : {}),
        ...(args.account ? { account: args.account } : {}),
        ...(args.region ? { region: args.region } : {}),
        ...(args.depth !== undefined ? { depth: String(args.depth) } : {}),
        maxEvents: String(args.max_events ?? LIMITS.analyzeEvents.default),
      };
      return ctx.withStore(async (store) => {
        const result = await analyzeOn(duckdbSource(store), opts);
        const minted = result.derivedKeys.length;
        const summary = `The pivot made ${plural(result.eventCount, 'call')} (${result.errorCount} failed) from ${result.firstSeen ?? '-'} to ${result.lastSeen ?? '-'}, from ${plural(result.ips.length, 'address', 'addresses')} in ${plural(result.regions.length, 'region')}; its lineage minted or created ${plural(minted, 'key')} and ${plural(result.createdPrincipals.length, 'principal')}; ${plural(result.events.length, 'lineage event')} listed.`;
        return envelope(summary, result, {
          truncated: result.eventsTruncated,
          notes: result.eventsTruncated ? [`The lineage has more events than the ${opts.maxEvents} listed (the earliest); counts are whole. Raise max_events (at most ${LIMITS.analyzeEvents.max}) or narrow since/until.`] : [],
        });
      });
    },
  );

  tool(
    'events',
    {
      title: 'Full records by event id',
      description: 'The original CloudTrail records of these event ids, as logged, with where each came from (file, sha256, position in the file, ingest run). Use it to check what a finding or timeline line rests on.',
      inputSchema: { event_ids: z.array(text(256)).min(1).max(LIMITS.events.max).describe(`event ids (eventID), at most ${LIMITS.events.max}`) },
      outputSchema: envelopeSchema(
        z.object({
          records: z.array(z.object({ eventId: z.string(), record: z.unknown(), provenance: z.object({ uri: z.string().nullable(), sha256: z.string().nullable(), recordIndex: z.number().nullable(), runId: z.string() }) })),
          missing: z.array(z.string()),
        }),
      ),
    },
    async ({ event_ids }) =>
      ctx.withStore(async (store) => {
        const records = await loadRecords(store, event_ids);
        const found = new Set(records.map((r) => r.eventId));
        const missing = [...new Set(event_ids)].filter((id) => !found.has(id));
        return envelope(`${plural(records.length, 'record')} found, ${missing.length} not in the store.`, { records, missing }, missing.length ? { notes: ['Ids under data.missing are not in the store: check them against a finding or search_events.'] } : {});
      }),
  );

  tool(
    'search_events',
    {
      title: 'Search events',
      description: 'Events matching simple filters (lists are alternatives, filters combine), earliest first, each with its id and the file it came from. A hard row limit applies; for counts and grouping use query.',
      inputSchema: {
        event_name: list('event names, e.g. CreateAccessKey'),
        event_source: list('event sources, e.g. iam.amazonaws.com'),
        key: pivotShape.key,
        principal: pivotShape.principal,
        session: pivotShape.session,
        ip: pivotShape.ip,
        error_code: list('error codes, e.g. AccessDenied; "*" matches any failed call'),
        account: list('only these 12-digit account ids'),
        region: list('only these regions'),
        since: pivotShape.since,
        until: pivotShape.until,
        limit: limit(LIMITS.search, 'events returned at most'),
      },
      outputSchema: envelopeSchema(z.object({ events: z.array(eventSchema) })),
    },
    async (args) => {
      const scope = parseScope({
        ...(args.since ? { since: args.since } : {}),
        ...(args.until ? { until: args.until } : {}),
        ...(args.account ? { account: args.account } : {}),
        ...(args.region ? { region: args.region } : {}),
      });
      const max = args.limit ?? LIMITS.search.default;
      return ctx.withStore(async (store) => {
        const { events, more } = await searchEvents(store, {
          ...(scope.since ? { since: scope.since } : {}),
          ...(scope.until ? { until: scope.until } : {}),
          ...(scope.accounts ? { accounts: scope.accounts } : {}),
          ...(scope.regions ? { regions: scope.regions } : {}),
          ...(args.key ? { keys: args.key.map((k) => k.toUpperCase()) } : {}),
          ...(args.ip ? { ips: args.ip } : {}),
          ...(args.principal ? { principals: args.principal } : {}),
          ...(args.session ? { sessions: args.session } : {}),
          ...(args.event_name ? { eventNames: args.event_name } : {}),
          ...(args.event_source ? { eventSources: args.event_source } : {}),
          ...(args.error_code ? { errorCodes: args.error_code } : {}),
          limit: max,
        });
        const summary = `${plural(events.length, 'event')}${more ? ` (the first ${max}; more match)` : ''} from ${events[0]?.eventTime ?? '-'} to ${events.at(-1)?.eventTime ?? '-'}.`;
        return envelope(summary, { events }, {
          truncated: more,
          notes: more ? [`More events match than the ${max} listed (the earliest); narrow the filters or since/until, raise limit (at most ${LIMITS.search.max}), or count them with query.`] : [],
        });
      });
    },
  );

  tool(
    'query',
    {
      title: 'Read-only SQL',
      description: 'One read-only SQL statement (DuckDB) on the store, through the same guard as `trailhound query`: nothing can be written. Tables: events (the Athena CloudTrail table\'s column names), inputs, ingest_runs, findings, digests; the resource trailhound://schema lists every column. Select eventid so that answers can cite their events. Rows and time are limited.',
      inputSchema: {
        sql: text(100_000).describe('one SQL statement, e.g. select eventname, count(*) as n from events group by 1 order by n desc'),
        max_rows: limit(LIMITS.query, 'rows returned at most'),
        timeout_seconds: z.number().int().min(1).max(LIMITS.query.maxSeconds).optional().describe(`stop the query after this many seconds (default ${LIMITS.query.defaultSeconds})`),
      },
      outputSchema: envelopeSchema(z.object({ columns: z.array(z.string()), rows: z.array(looseObject), rowCount: z.number() })),
    },
    async ({ sql, max_rows, timeout_seconds }) => {
      const max = max_rows ?? LIMITS.query.default;
      const seconds = timeout_seconds ?? LIMITS.query.defaultSeconds;
      return ctx.withStore(async (store) => {
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          store.connection.interrupt();
        }, seconds * 1000);
        let result;
        try {
          result = await runQuery(store, sql, max);
        } catch (error) {
          if (timedOut) throw new QueryError(`the query ran longer than ${seconds} s and was stopped; narrow it (a time window, fewer columns) or raise timeout_seconds (at most ${LIMITS.query.maxSeconds})`, { cause: error });
          throw error;
        } finally {
          clearTimeout(timer);
        }
        const rows = result.rows;
        const truncated = result.truncated;
        const notes = [
          ...(truncated ? [`The query returned more than ${max} rows; only the first ${max} are listed. Aggregate, add a where clause or a limit, or raise max_rows (at most ${LIMITS.query.max}).`] : []),
          ...(result.columns.some((c) => /^(eventid|event_ids|eventids)$/i.test(c)) ? [] : ['The rows carry no eventid column: to cite the evidence, select eventid too.']),
        ];
        return envelope(`${truncated ? `more than ${plural(max, 'row')}` : plural(rows.length, 'row')}, ${plural(result.columns.length, 'column')}${truncated ? `; the first ${max} are listed` : ''}.`, { columns: result.columns, rows, rowCount: rows.length }, { truncated, notes });
      });
    },
  );

  tool(
    'timeline',
    {
      title: 'Incident timeline',
      description: 'What `trailhound timeline` writes: findings interleaved with the events behind them, the credential lineage, coverage and the remediation plan, for the whole store or a pivot (key, address, principal, session). Markdown for a ticket, or the JSON structure.',
      inputSchema: { ...reportShape, max_rows: limit(LIMITS.timelineRows, 'timeline rows listed at most; the rest are counted') },
      outputSchema: envelopeSchema(z.union([document, z.looseObject({ entries: z.array(looseObject), findingCount: z.number(), eventCount: z.number() })])),
    },
    async (args) => {
      const options = reportOptions(reportArgs(args));
      const maxRows = args.max_rows ?? LIMITS.timelineRows.default;
      return ctx.withStore(async (store) => {
        const report = await timelineFromStore(store, options);
        const truncated = report.entries.length > maxRows;
        const shown = { ...report, entries: report.entries.slice(0, maxRows) };
        const data = args.format === 'json' ? shown : markdownDocument(renderTimelineMarkdown(report, { maxRows }));
        return envelope(`Timeline of ${plural(report.findingCount, 'finding')} and ${plural(report.eventCount, 'event')}, ${plural(report.entries.length, 'row')}${truncated ? ` (the first ${maxRows} listed)` : ''}.`, data, {
          cite: shown,
          truncated: truncated || report.eventsTruncated,
          notes: [
            ...(truncated ? [`Only the first ${maxRows} of ${report.entries.length} rows are listed; narrow since/until or the pivot, or raise max_rows (at most ${LIMITS.timelineRows.max}).`] : []),
            ...(report.eventsTruncated ? ['The lineage had more events than the event limit; only the earliest were read.'] : []),
          ],
        });
      });
    },
  );

  tool(
    'remediation_plan',
    {
      title: 'Remediation plan',
      description: 'What `trailhound remediate` writes: the steps in the order of AWS guidance (deactivate keys first, revoke sessions with a deny policy on aws:TokenIssueTime, remove what the attacker created, inventory every region), each action with the event ids behind it. A plan only: nothing is changed.',
      inputSchema: { ...reportShape, contained_at: time('containment time for the session deny policies (default: now)') },
      outputSchema: envelopeSchema(z.union([document, z.looseObject({ containedAt: z.string(), steps: z.array(looseObject), caveats: z.array(z.string()) })])),
    },
    async (args) => {
      const options = reportOptions({ ...reportArgs(args), ...(args.contained_at ? { containedAt: args.contained_at } : {}) });
      return ctx.withStore(async (store) => {
        const plan = await planFromStore(store, options);
        const actions = plan.steps.reduce((n, s) => n + s.actions.length, 0);
        const data = args.format === 'json' ? plan : markdownDocument(renderPlanMarkdown(plan));
        return envelope(`Plan of ${plural(plan.steps.length, 'step')} and ${plural(actions, 'action')} for ${plural(plan.exposedKeys.length, 'exposed key')}; ${plural(plan.caveats.length, 'caveat')}.`, data, { cite: plan });
      });
    },
  );
}

/** The report options of the timeline and plan tools, in the shape the commands take. */
function reportArgs(args: { key?: string[]; ip?: string[]; principal?: string[]; session?: string[]; since?: string; until?: string; min_severity?: string }) {
  return {
    ...(args.key ? { key: args.key } : {}),
    ...(args.ip ? { ip: args.ip } : {}),
    ...(args.principal ? { principal: args.principal } : {}),
    ...(args.session ? { session: args.session } : {}),
    ...(args.since ? { since: args.since } : {}),
    ...(args.until ? { until: args.until } : {}),
    ...(args.min_severity ? { minSeverity: args.min_severity } : {}),
  };
}

/** The arguments alerts and findings share. */
function detectionFilterShape(l: { readonly default: number; readonly max: number }, what: string) {
  return {
    min_severity: severity.optional().describe('only those at or above this severity'),
    detection: list('only these detection ids (list_detections names them)'),
    since: pivotShape.since,
    until: pivotShape.until,
    key: list('only those of these access key ids'),
    ip: list('only those from these source addresses (exact)'),
    limit: limit(l, what),
  };
}

/** Keeps the findings or alerts of the detections, keys and addresses asked for. */
function detectionFilter(args: { readonly detection?: readonly string[]; readonly key?: readonly string[]; readonly ip?: readonly string[] }): (f: Finding) => boolean {
  const keys = args.key?.map((k) => k.toUpperCase());
  return (f) =>
    (!args.detection || args.detection.includes(f.detection)) &&
    (!keys || (f.accessKeyId !== null && keys.includes(f.accessKeyId))) &&
    (!args.ip || (f.sourceIp !== null && args.ip.includes(f.sourceIp)));
}

/** The answer of alerts or findings: counts by severity, the first `max` by time, and a note when cut. */
function detectionAnswer<T extends Finding>(noun: string, matched: readonly T[], max: number, data: (listed: readonly T[], matched: number) => unknown): Envelope {
  const bySeverity = [...SEVERITIES]
    .reverse()
    .map((s) => [s, matched.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const truncated = matched.length > max;
  return envelope(`${plural(matched.length, noun)} match${bySeverity.length ? ` (${bySeverity.join(', ')})` : ''}${truncated ? `; the first ${max} by time are listed` : ''}.`, data(matched.slice(0, max), matched.length), {
    truncated,
    notes: truncated ? [`Only the first ${max} of ${matched.length} ${noun}s are listed; narrow the filters or raise limit (at most ${LIMITS.findings.max}).`] : [],
  });
}
