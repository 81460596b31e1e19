/**
 * The account, region and time window evidence is narrowed to: what an ingest loads, what a
 * pivot or detection reads, and what an Athena query is constrained to (its partitions).
 */
export interface Scope {
  readonly since?: Date;
  readonly until?: Date;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
}

/** The scope part of a larger value (a pivot, say), without its undefined fields. */
export function scopeOf(value: Scope): Scope {
  return {
    ...(value.since ? { since: value.since } : {}),
    ...(value.until ? { until: value.until } : {}),
    ...(value.accounts ? { accounts: value.accounts } : {}),
    ...(value.regions ? { regions: value.regions } : {}),
  };
}
