/** Exit codes shared by every command; documented in docs/exit-codes.md. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  partial: 3,
  store: 4,
  noMatch: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: a stable code, a message that says what to do, and the exit code it maps to. */
export class TrailhoundError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Another process has the store open for writing. */
export class StoreLockedError extends TrailhoundError {
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(
      'STORE_LOCKED',
      `another trailhound process holds ${path}${detail ? ` (${detail})` : ''}; close it, wait for it to finish, or pass --db to use another store`,
      ExitCode.store,
      options,
    );
  }
}

/** The store file exists but cannot be used (corrupt, newer schema, not a DuckDB file). */
export class StoreError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_ERROR', message, ExitCode.store, options);
  }
}

/** The command line or API call asked for something that cannot be done as stated. */
export class UsageError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, ExitCode.usage, options);
  }
}

/** A query given to `trailhound query` failed or tried to write. */
export class QueryError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('QUERY_FAILED', message, ExitCode.usage, options);
  }
}

/** A pivot (key, address, principal, session) matched nothing in the evidence. */
export class NoMatchError extends TrailhoundError {
  constructor(unmatched: readonly string[], options?: ErrorOptions) {
    super(
      'NO_MATCH',
      `nothing in the evidence for ${unmatched.join(', ')}: check the value, the window (--since/--until, --account, --region) and what the store holds (trailhound stats)`,
      ExitCode.noMatch,
      options,
    );
  }
}
