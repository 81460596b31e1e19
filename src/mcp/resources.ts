/**
 * Resources an assistant reads to write correct SQL: the detection catalog (with each
 * detection's SQL) and the store schema (the columns of this store, and what the tables mean).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { shippedCatalog } from '../cli/detect-command.js';
import { packageRoot } from '../core/version.js';
import type { Store } from '../store/store.js';
import type { ToolContext } from './tools.js';

/** The URIs of the resources. */
export const RESOURCES = { detections: 'trailhound://detections', schema: 'trailhound://schema' } as const;

/**
 * The prose on the store's tables: docs/store.md when the package ships it, else the README's
 * "The store" section; empty when neither is there.
 */
export function storeDocs(root: string = packageRoot()): string {
  const page = join(root, 'docs', 'store.md');
  if (existsSync(page)) return readFileSync(page, 'utf8');
  const readme = join(root, 'README.md');
  if (!existsSync(readme)) return '';
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('\n## The store\n');
  if (start < 0) return '';
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, end < 0 ? undefined : end).trim();
}

/** The tables and views of the store with their columns and types, as a Markdown list. */
export async function storeColumns(store: Store): Promise<string> {
  const rows = await store.all<{ table_name: string; table_type: string; columns: string }>(
    `select t.table_name, t.table_type, string_agg(c.column_name || ' ' || c.data_type, ', ' order by c.ordinal_position) as columns
     from information_schema.tables t
     join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
     where t.table_schema = 'main' and t.table_name not similar to 'event_rows_[0-9]+'
     group by all
     order by t.table_name`,
  );
  return rows.map((r) => `- \`${r.table_name}\` (${r.table_type === 'VIEW' ? 'view' : 'table'}): ${r.columns}`).join('\n');
}

/** Registers the catalog and schema resources on `server`. */
export function registerResources(server: McpServer, ctx: ToolContext): void {
  server.registerResource(
    'detections',
    RESOURCES.detections,
    { title: 'Detection catalog', description: 'Every detection trailhound runs: metadata and SQL (DuckDB, over the events table).', mimeType: 'application/json' },
    async (uri) => {
      const catalog = shippedCatalog().map(({ path: _path, tests: _tests, ...detection }) => detection);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: `${JSON.stringify(catalog, null, 2)}\n` }] };
    },
  );

  server.registerResource(
    'schema',
    RESOURCES.schema,
    { title: 'Store schema', description: 'The tables and columns of this store (DuckDB), with what each table holds: what the query tool can select.', mimeType: 'text/markdown' },
    async (uri) => {
      const columns = await ctx.withStore(storeColumns);
      const docs = storeDocs();
      const text = [
        '# The trailhound store',
        '',
        'SQL is DuckDB. Times are TIMESTAMPTZ in UTC. The nested CloudTrail parts (useridentity, requestparameters, responseelements, …) are JSON: read them with json_extract_string(requestparameters, \'$.userName\').',
        '',
        '## Tables and columns of this store',
        '',
        columns,
        ...(docs ? ['', '## About the tables', '', docs.replace(/^#+ .*\n+/, '')] : []),
        '',
      ].join('\n');
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text }] };
    },
  );
}
