/** Rows with a fixed column order, as a query or a command produces them. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}
