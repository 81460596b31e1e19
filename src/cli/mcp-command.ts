import { storePath } from './options.js';

/** `trailhound mcp`: serves the store over stdio until the client disconnects. */
export async function mcpCommand(opts: { readonly db?: string }): Promise<void> {
  const { serveStdio } = await import('../mcp/server.js');
  await serveStdio({ db: storePath(opts), log: (line) => process.stderr.write(`${line}\n`) });
}
