/** What `trailhound mcp --help` shows after the options: how common clients start the server. */
export const MCP_HELP = `
The server speaks MCP over stdin/stdout; an AI client starts it. Give the store as an absolute path.

  Claude Code:     claude mcp add trailhound -- trailhound mcp --db /cases/acme.duckdb
  Claude Desktop:  claude_desktop_config.json
                   { "mcpServers": { "trailhound": { "command": "trailhound", "args": ["mcp", "--db", "/cases/acme.duckdb"] } } }
  Cursor:          .cursor/mcp.json, the same "mcpServers" entry as Claude Desktop
  VS Code/Copilot: .vscode/mcp.json
                   { "servers": { "trailhound": { "type": "stdio", "command": "trailhound", "args": ["mcp", "--db", "/cases/acme.duckdb"] } } }

Tools: store_summary, list_detections, alerts, findings, analyze, events, search_events, query,
timeline, remediation_plan. Resources: trailhound://schema, trailhound://detections.
The store is opened read-only for each call, so an ingest can run between calls. Log
content reaches the assistant only inside fenced, escaped data fields.
`;
