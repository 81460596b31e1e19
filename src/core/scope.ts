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
