/**
 * The MCP adapter: one client connection per configured server per worker, opened on first use
 * and shared by every run's calls. A connection that closes (the server process died, the HTTP
 * endpoint went away) is dropped, and the next call opens a new one. A call is never retried here:
 * a call cut off mid-way may have happened, and the effects ledger decides what to do about that.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerSpec } from '../config-options';
import type { Logger } from '../logger';

export type McpTool = Tool;
export type McpCallResult = CallToolResult;

/**
 * Bounds on one server's `tools/list`: a server that pages without end (or lists without end) must not keep
 * a worker from starting, nor fill its memory. What was listed within them is kept; a warning says the rest was left out.
 */
export const MCP_MAX_LIST_PAGES = 20;
export const MCP_MAX_TOOLS_PER_SERVER = 500;

/** The server could not be reached or went away mid-call. */
export class McpUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpUnavailableError';
  }
}

/** The server answered the call with a protocol error (unknown tool, bad arguments, its own failure). */
export class McpCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpCallError';
  }
}

export interface McpCallOptions {
  /** Sent in the request's `_meta` under `metaKey`. */
  meta: Record<string, unknown>;
  signal: AbortSignal;
  timeoutMs: number;
  onProgress?: () => void;
}

export class McpPool {
  private readonly connections = new Map<string, Promise<Client>>();
  private closed = false;

  constructor(
    private readonly servers: Record<string, McpServerSpec>,
    private readonly logger: Logger,
    private readonly clientInfo: { name: string; version: string },
  ) {}

  serverNames(): string[] {
    return Object.keys(this.servers);
  }

  spec(server: string): McpServerSpec | undefined {
    return this.servers[server];
  }

  /** The server's tools, at most MCP_MAX_TOOLS_PER_SERVER of them from at most MCP_MAX_LIST_PAGES pages. */
  async listTools(server: string): Promise<McpTool[]> {
    const client = await this.connection(server);
    const tools: McpTool[] = [];
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let pages = 0; ; pages += 1) {
      if (pages === MCP_MAX_LIST_PAGES) {
        this.logger.warn({ server, pages, tools: tools.length }, `MCP server lists more than ${MCP_MAX_LIST_PAGES} pages of tools: the rest are left out`);
        break;
      }
      const page = await client.listTools(cursor ? { cursor } : undefined).catch((err: unknown) => this.fail(server, client, err));
      const room = MCP_MAX_TOOLS_PER_SERVER - tools.length;
      tools.push(...page.tools.slice(0, room));
      if (page.tools.length > room || (tools.length === MCP_MAX_TOOLS_PER_SERVER && page.nextCursor)) {
        this.logger.warn({ server, tools: tools.length }, `MCP server lists more than ${MCP_MAX_TOOLS_PER_SERVER} tools: the rest are left out`);
        break;
      }
      cursor = page.nextCursor;
      if (!cursor) break;
      if (cursors.has(cursor)) {
        this.logger.warn({ server, pages: pages + 1 }, 'MCP server repeats a tools/list cursor: listing stops there');
        break;
      }
      cursors.add(cursor);
    }
    return tools;
  }

  async callTool(server: string, tool: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult> {
    const client = await this.connection(server);
    try {
      return (await client.callTool({ name: tool, arguments: args, _meta: opts.meta }, undefined, {
        signal: opts.signal,
        timeout: opts.timeoutMs,
        resetTimeoutOnProgress: true,
        onprogress: opts.onProgress,
      })) as McpCallResult;
    } catch (err) {
      return this.fail(server, client, err);
    }
  }

  /** Sorts a failure: the connection's (drop it, unavailable) or the call's (the model sees it). */
  private fail(server: string, client: Client, err: unknown): never {
    if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout) {
      throw new McpCallError(`MCP server ${server}: ${err.message}`);
    }
    if ((err as { name?: string }).name === 'AbortError') throw err;
    this.drop(server, client);
    throw new McpUnavailableError(`MCP server ${server} is unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }

  private connection(server: string): Promise<Client> {
    if (this.closed) throw new McpUnavailableError('the MCP pool is closed');
    let pending = this.connections.get(server);
    if (!pending) {
      pending = this.open(server);
      this.connections.set(server, pending);
      // A failed connect is not kept: the next call tries again.
      pending.catch(() => {
        if (this.connections.get(server) === pending) this.connections.delete(server);
      });
    }
    return pending.catch((err: unknown) => {
      throw new McpUnavailableError(`MCP server ${server} could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async open(server: string): Promise<Client> {
    const spec = this.servers[server];
    if (!spec) throw new Error(`no MCP server named ${server}`);
    const transport =
      'url' in spec
        ? new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers ?? {} } })
        : new StdioClientTransport({ command: spec.command, args: spec.args ?? [], env: { ...getDefaultEnvironment(), ...(spec.env ?? {}) }, stderr: 'pipe' });
    const client = new Client(this.clientInfo);
    client.onclose = () => {
      this.logger.warn({ server }, 'MCP connection closed; the next call reconnects');
      this.drop(server, client);
    };
    client.onerror = (err) => this.logger.debug({ err, server }, 'MCP transport error');
    await client.connect(transport);
    this.logger.info({ server, transport: 'url' in spec ? 'http' : 'stdio' }, 'MCP server connected');
    return client;
  }

  /** Forgets this connection (if it is still the current one) and closes it. */
  private drop(server: string, client: Client): void {
    const current = this.connections.get(server);
    if (current) {
      void current.then(
        (c) => {
          if (c === client && this.connections.get(server) === current) this.connections.delete(server);
        },
        () => undefined,
      );
    }
    client.onclose = undefined;
    void client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const pending of all) {
      const client = await pending.catch(() => undefined);
      if (client) {
        client.onclose = undefined;
        await client.close().catch(() => undefined);
      }
    }
  }
}
