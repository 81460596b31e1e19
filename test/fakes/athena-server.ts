/**
 * A fake Amazon Athena on 127.0.0.1 speaking the JSON 1.1 protocol (X-Amz-Target
 * AmazonAthena.*): StartQueryExecution, GetQueryExecution (QUEUED → RUNNING → SUCCEEDED or
 * FAILED, data scanned growing while it runs), GetQueryResults (paged, the header row first
 * on the first page, every value as VarCharValue), StopQueryExecution and GetTableMetadata.
 * What a query returns is up to the test's `answer` function.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, sendJson, sendJsonError, type SeenRequest } from './http.js';

/** A column of a result, with its Athena type name (varchar, bigint, boolean, …). */
export interface FakeColumn {
  readonly name: string;
  readonly type: string;
}

/** What the fake does with a query: rows to return, or a failure with Athena's reason. */
export type FakeAnswer =
  | { readonly kind: 'rows'; readonly columns: readonly FakeColumn[]; readonly rows: ReadonlyArray<ReadonlyArray<string | null>>; readonly scannedBytes?: number }
  | { readonly kind: 'fail'; readonly reason: string; readonly scannedBytes?: number };

/** A query as the fake received it. */
export interface FakeQuery {
  readonly id: string;
  readonly sql: string;
  readonly parameters: readonly string[];
  readonly database: string | undefined;
  readonly catalog: string | undefined;
  readonly workgroup: string | undefined;
  readonly outputLocation: string | undefined;
  polls: number;
  stopped: boolean;
  answer?: FakeAnswer;
}

/** A table GetTableMetadata describes. */
export interface FakeTable {
  readonly columns: readonly FakeColumn[];
  readonly partitionKeys: readonly FakeColumn[];
  readonly parameters?: Readonly<Record<string, string>>;
}

/** How the fake behaves. */
export interface FakeAthenaOptions {
  /** Computes each query's answer (called once, when the query is started). */
  readonly answer: (query: FakeQuery) => FakeAnswer | Promise<FakeAnswer>;
  /** Tables by `database.table`. */
  readonly tables?: Readonly<Record<string, FakeTable>>;
  /** Polls answered QUEUED, then RUNNING, before the query ends (default 1 and 2). */
  readonly queuedPolls?: number;
  readonly runningPolls?: number;
  /** Rows per GetQueryResults page at most (the header row counts on the first page, as on Athena). */
  readonly pageSize?: number;
  /** Refuse this many StartQueryExecution calls first with TooManyRequestsException (the concurrent-query limit). */
  readonly throttleStarts?: number;
  /** Refuse queries without ResultConfiguration.OutputLocation, as a workgroup without a result location does. */
  readonly requireOutputLocation?: boolean;
}

/** The fake Athena service. */
export class FakeAthena {
  readonly queries: FakeQuery[] = [];
  private readonly server: FakeServer;
  endpoint = '';

  constructor(private readonly options: FakeAthenaOptions) {
    this.server = new FakeServer((req, res) => this.handle(req, res));
  }

  /** Every request's X-Amz-Target operation, in order. */
  get operations(): string[] {
    return this.server.requests.map((r) => String(r.headers['x-amz-target'] ?? '').replace('AmazonAthena.', ''));
  }

  async start(): Promise<this> {
    this.endpoint = await this.server.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private async handle(req: SeenRequest, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!target.startsWith('AmazonAthena.')) return sendJsonError(res, 400, 'UnknownOperationException', `unknown target ${target}`);
    const body = JSON.parse(req.body || '{}') as Record<string, unknown>;
    switch (target.slice('AmazonAthena.'.length)) {
      case 'StartQueryExecution':
        return this.startQuery(body, res);
      case 'GetQueryExecution':
        return this.getExecution(body, res);
      case 'GetQueryResults':
        return this.getResults(body, res);
      case 'StopQueryExecution': {
        const query = this.find(body, res);
        if (!query) return;
        query.stopped = true;
        return sendJson(res, 200, {});
      }
      case 'GetTableMetadata':
        return this.getTable(body, res);
      default:
        return sendJsonError(res, 400, 'InvalidRequestException', `the fake does not implement ${target}`);
    }
  }

  private throttled = 0;

  private async startQuery(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    if (this.throttled < (this.options.throttleStarts ?? 0)) {
      this.throttled++;
      return sendJsonError(res, 400, 'TooManyRequestsException', 'You have exceeded the limit for the number of queries you can run concurrently. Reduce the number of concurrent queries submitted by this account.');
    }
    const context = (body['QueryExecutionContext'] ?? {}) as Record<string, string>;
    if (this.options.requireOutputLocation && !((body['ResultConfiguration'] ?? {}) as Record<string, string>)['OutputLocation']) {
      return sendJsonError(res, 400, 'InvalidRequestException', 'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.');
    }
    const sql = String(body['QueryString'] ?? '');
    if (sql.length === 0 || sql.length > 262_144) return sendJsonError(res, 400, 'InvalidRequestException', 'QueryString must be 1 to 262144 characters');
    const query: FakeQuery = {
      id: `00000000-0000-4000-8000-${String(this.queries.length + 1).padStart(12, '0')}`,
      sql,
      parameters: (body['ExecutionParameters'] as string[] | undefined) ?? [],
      database: context['Database'],
      catalog: context['Catalog'],
      workgroup: body['WorkGroup'] as string | undefined,
      outputLocation: ((body['ResultConfiguration'] ?? {}) as Record<string, string>)['OutputLocation'],
      polls: 0,
      stopped: false,
    };
    this.queries.push(query);
    try {
      query.answer = await this.options.answer(query);
    } catch (error) {
      query.answer = { kind: 'fail', reason: `fake: ${(error as Error).message.split('\n')[0]}` };
    }
    sendJson(res, 200, { QueryExecutionId: query.id });
  }

  private find(body: Record<string, unknown>, res: ServerResponse): FakeQuery | undefined {
    const query = this.queries.find((q) => q.id === body['QueryExecutionId']);
    if (!query) sendJsonError(res, 400, 'InvalidRequestException', `QueryExecution ${String(body['QueryExecutionId'])} was not found`);
    return query;
  }

  private stateOf(query: FakeQuery): string {
    if (query.stopped) return 'CANCELLED';
    const queued = this.options.queuedPolls ?? 1;
    const running = this.options.runningPolls ?? 2;
    if (query.polls <= queued) return 'QUEUED';
    if (query.polls <= queued + running) return 'RUNNING';
    return query.answer?.kind === 'fail' ? 'FAILED' : 'SUCCEEDED';
  }

  private getExecution(body: Record<string, unknown>, res: ServerResponse): void {
    const query = this.find(body, res);
    if (!query) return;
    query.polls++;
    const state = this.stateOf(query);
    const total = query.answer?.scannedBytes ?? 12 * 1024 * 1024;
    const running = this.options.runningPolls ?? 2;
    const progress = state === 'QUEUED' ? 0 : state === 'RUNNING' ? (query.polls - (this.options.queuedPolls ?? 1)) / (running + 1) : 1;
    sendJson(res, 200, {
      QueryExecution: {
        QueryExecutionId: query.id,
        Query: query.sql,
        StatementType: 'DML',
        QueryExecutionContext: { Database: query.database, Catalog: query.catalog },
        Status: {
          State: state,
          SubmissionDateTime: Date.now() / 1000,
          ...(state === 'FAILED' && query.answer?.kind === 'fail'
            ? { StateChangeReason: query.answer.reason, AthenaError: { ErrorCategory: 2, ErrorType: 1100, Retryable: false, ErrorMessage: query.answer.reason } }
            : {}),
          ...(state === 'CANCELLED' ? { StateChangeReason: 'Query cancelled by user' } : {}),
        },
        Statistics: { DataScannedInBytes: Math.round(total * progress), EngineExecutionTimeInMillis: 40 * query.polls, TotalExecutionTimeInMillis: 50 * query.polls },
        WorkGroup: query.workgroup ?? 'primary',
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
      },
    });
  }

  private getResults(body: Record<string, unknown>, res: ServerResponse): void {
    const query = this.find(body, res);
    if (!query) return;
    const state = this.stateOf(query);
    if (state !== 'SUCCEEDED' || query.answer?.kind !== 'rows') {
      return sendJsonError(res, 400, 'InvalidRequestException', `Query has not yet finished. Current state: ${state}`);
    }
    const { columns, rows } = query.answer;
    const pageSize = Math.min(Number(body['MaxResults'] ?? 1000), this.options.pageSize ?? 1000);
    const offset = body['NextToken'] ? Number(String(body['NextToken']).replace('page-', '')) : 0;
    // Offsets count the header row, which is row 0 of the first page.
    const all = [columns.map((c) => c.name), ...rows];
    const page = all.slice(offset, offset + pageSize);
    const next = offset + pageSize < all.length ? `page-${offset + pageSize}` : undefined;
    sendJson(res, 200, {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((values) => ({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: {
          ColumnInfo: columns.map((c) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.name, Label: c.name, Type: c.type, Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: c.type === 'varchar' })),
        },
      },
      ...(next ? { NextToken: next } : {}),
    });
  }

  private getTable(body: Record<string, unknown>, res: ServerResponse): void {
    const key = `${String(body['DatabaseName'])}.${String(body['TableName'])}`;
    const table = this.options.tables?.[key];
    if (!table) return sendJsonError(res, 400, 'MetadataException', `Table ${String(body['TableName'])} not found in database ${String(body['DatabaseName'])}`);
    sendJson(res, 200, {
      TableMetadata: {
        Name: body['TableName'],
        TableType: 'EXTERNAL_TABLE',
        Columns: table.columns.map((c) => ({ Name: c.name, Type: c.type })),
        PartitionKeys: table.partitionKeys.map((c) => ({ Name: c.name, Type: c.type })),
        Parameters: { EXTERNAL: 'TRUE', ...(table.parameters ?? {}) },
      },
    });
  }
}
