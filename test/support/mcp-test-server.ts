/**
 * A real MCP server, written with the MCP SDK, for the tests: over stdio (run this file as a
 * process: `--stdio STATE_DIR`) or over Streamable HTTP (`startHttpMcpServer`, in the test's own
 * process). Every call is appended to STATE_DIR/calls.jsonl with the idempotency key it carried,
 * and a file STATE_DIR/crash-<tool> makes the next call of <tool> die mid-call (the process exits,
 * or the HTTP connection is cut) — once. `purge_cache` claims to be read-only and is not (annotations are
 * the server's claim). With `misbehave` (`--misbehave` over stdio) its tools/list misbehaves: it names
 * `lookup` twice, lists a tool that runs only as an MCP task, and never stops paging (one filler tool a page).
 * With `listed` (HTTP only) it lists that many plain tools instead of its own, 100 a page.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { MCP_IDEMPOTENCY_META_KEY } from '../../contract/keys';

export interface McpCallRecord {
  tool: string;
  key: string | undefined;
  args: Record<string, unknown>;
  pid: number;
  phase: 'done' | 'crashed';
}

export function readCalls(stateDir: string): McpCallRecord[] {
  const file = path.join(stateDir, 'calls.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as McpCallRecord);
}

/** The server's tools; `crash` ends the call abruptly, as its transport allows. */
function buildServer(stateDir: string, crash: () => Promise<never>, misbehave = false, listed?: number): McpServer {
  const server = new McpServer({ name: 'longhaul-test-mcp', version: '1.0.0' });
  const record = (tool: string, key: string | undefined, args: Record<string, unknown>, phase: McpCallRecord['phase']) =>
    fs.appendFileSync(path.join(stateDir, 'calls.jsonl'), `${JSON.stringify({ tool, key, args, pid: process.pid, phase })}\n`);
  const handle =
    (tool: string, answer: (args: Record<string, string>) => string) =>
    async (args: Record<string, string>, extra: { _meta?: Record<string, unknown> }) => {
      const key = extra._meta?.[MCP_IDEMPOTENCY_META_KEY] as string | undefined;
      const marker = path.join(stateDir, `crash-${tool}`);
      if (fs.existsSync(marker)) {
        fs.rmSync(marker);
        record(tool, key, args, 'crashed');
        return crash();
      }
      record(tool, key, args, 'done');
      return { content: [{ type: 'text' as const, text: answer(args) }] };
    };

  server.registerTool(
    'lookup',
    { description: 'Look up the weather in a city.', inputSchema: { city: z.string() }, annotations: { readOnlyHint: true } },
    handle('lookup', (a) => `Sunny in ${a.city}`),
  );
  server.registerTool(
    'save_note',
    { description: 'Save a note; saving the same key twice stores it once.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true } },
    handle('save_note', (a) => `Saved: ${a.text}`),
  );
  server.registerTool(
    'append_log',
    { description: 'Append a line to a log (not idempotent).', inputSchema: { line: z.string() }, annotations: { readOnlyHint: false, destructiveHint: false } },
    handle('append_log', (a) => `Appended: ${a.line}`),
  );
  server.registerTool(
    'delete_record',
    { description: 'Delete a record for good.', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } },
    handle('delete_record', (a) => `Deleted ${a.id}`),
  );
  server.registerTool(
    'purge_cache',
    { description: 'Empties the cache (says it only reads; it destroys).', inputSchema: { region: z.string() }, annotations: { readOnlyHint: true } },
    handle('purge_cache', (a) => `Purged ${a.region}`),
  );
  if (misbehave) misbehaveOnList(server);
  if (listed !== undefined) listMany(server, listed);
  return server;
}

/** tools/list naming `count` tools (`tool_0` …), 100 a page: more than a worker takes from one server. */
function listMany(server: McpServer, count: number): void {
  const PAGE = 100;
  server.server.setRequestHandler(ListToolsRequestSchema, (req) => {
    const from = Number(req.params?.cursor ?? 0);
    const to = Math.min(count, from + PAGE);
    const tools: Tool[] = Array.from({ length: to - from }, (_, i) => ({ name: `tool_${from + i}`, inputSchema: { type: 'object', properties: {} } }));
    return to < count ? { tools, nextCursor: String(to) } : { tools };
  });
}

/** tools/list as a broken server answers it: a name twice, a task-only tool, and a next page, always. */
function misbehaveOnList(server: McpServer): void {
  const input = { type: 'object' as const, properties: {} };
  server.server.setRequestHandler(ListToolsRequestSchema, (req) => {
    const page = Number(req.params?.cursor ?? 0);
    const tools: Tool[] =
      page === 0
        ? [
            { name: 'lookup', description: 'Look up the weather in a city.', inputSchema: { type: 'object', properties: { city: { type: 'string' } } }, annotations: { readOnlyHint: true } },
            { name: 'lookup', description: 'The same name again.', inputSchema: input },
            { name: 'background_job', description: 'Runs only as an MCP task.', inputSchema: input, execution: { taskSupport: 'required' } },
            { name: 'maybe_task', description: 'May run as a task or not.', inputSchema: input, execution: { taskSupport: 'optional' } },
          ]
        : [{ name: `filler_${page}`, description: 'One more page.', inputSchema: input }];
    return { tools, nextCursor: String(page + 1) };
  });
}

/** Streamable HTTP, stateless: each request gets its own server and transport. */
export async function startHttpMcpServer(stateDir: string, port = 0, opts: { misbehave?: boolean; listed?: number } = {}): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const httpServer = http.createServer((req, res) => {
    if (req.url !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const mcp = buildServer(
        stateDir,
        () => {
          req.socket.destroy(); // the connection is cut mid-call, no answer
          return new Promise<never>(() => undefined);
        },
        opts.misbehave,
        opts.listed,
      );
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      void mcp.connect(transport).then(() => transport.handleRequest(req, res, body ? JSON.parse(body) : undefined));
    });
  });
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
  const bound = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        httpServer.close(() => resolve());
      }),
  };
}

if (require.main === module && process.argv[2] === '--stdio') {
  const stateDir = process.argv[3]!;
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(path.join(stateDir, `stdio-${process.pid}.pid`), '');
  const server = buildServer(stateDir, () => process.exit(1), process.argv.includes('--misbehave'));
  void server.connect(new StdioServerTransport());
}
