/**
 * Tools of MCP servers as Longhaul tools: `mcp__<server>__<tool>`, described to the model with the
 * server's own JSON Schema, their risk read from the tool's annotations (readOnlyHint → read,
 * destructiveHint → irreversible, otherwise write; idempotentHint → re-sent after a crash) unless the
 * operator's `risk` for the server or tool says otherwise (annotations are the server's own claim: with a
 * `risk` set, idempotentHint is not believed either), and
 * every call made with the ledger's idempotency key in `_meta`. Each call runs inside the runTool
 * activity like any tool: under the effects ledger, with approvals by risk.
 */
import { z } from 'zod';
import { MCP_IDEMPOTENCY_META_KEY } from '../../contract/keys';
import type { Risk } from '../../contract/run';
import type { McpRiskOverride } from '../../shared/config-options';
import type { Logger } from '../../shared/logger';
import { McpCallError, McpUnavailableError, type McpCallResult, type McpPool, type McpTool } from '../../shared/mcp/mcp-pool';
import { TOOL_NAME } from './registry';
import { defineTool, ToolError, ToolUnavailableError, type ToolDefinition } from './tool';

export const mcpToolName = (server: string, tool: string): string => `mcp__${server}__${tool}`;

export function riskFromAnnotations(annotations: McpTool['annotations']): Risk {
  if (annotations?.readOnlyHint === true) return 'read';
  if (annotations?.destructiveHint === true) return 'irreversible';
  return 'write';
}

/**
 * The operator's risk for the tool, if any: the server's, or the tool's own entry (an own key only: a tool
 * named `constructor` or `toString` finds nothing the configuration did not say).
 */
export function mcpRiskOverrideFor(tool: McpTool, override: McpRiskOverride): Risk | undefined {
  if (typeof override === 'string') return override;
  return override && Object.hasOwn(override, tool.name) ? override[tool.name] : undefined;
}

/** The operator's risk for the tool when configured, else its annotations'. */
export function mcpToolRisk(tool: McpTool, override: McpRiskOverride): Risk {
  return mcpRiskOverrideFor(tool, override) ?? riskFromAnnotations(tool.annotations);
}

/**
 * Whether a call cut off mid-way may be re-sent unasked: the server's `idempotentHint`, unless the operator set
 * the tool's risk — then they have said the server's annotations are not to be trusted, and that one is not either.
 */
export function mcpToolIdempotent(tool: McpTool, override: McpRiskOverride): boolean {
  if (mcpRiskOverrideFor(tool, override) !== undefined) return false;
  return tool.annotations?.idempotentHint === true;
}

/** The per-tool keys of a server's `risk` that name none of the tools it lists (a typo, or a tool since removed). */
export function unmatchedRiskKeys(tools: McpTool[], override: McpRiskOverride): string[] {
  if (!override || typeof override === 'string') return [];
  const listed = new Set(tools.map((t) => t.name));
  return Object.keys(override).filter((key) => !listed.has(key));
}

/**
 * A tool that can only be called as an MCP task (`execution.taskSupport: "required"`): this client does not
 * support tasks, so every call would fail (-32601). Such tools are not offered.
 */
export function needsTasks(tool: McpTool): boolean {
  return tool.execution?.taskSupport === 'required';
}

/** What the model reads back: text parts as they are, structured content as JSON, other parts named. */
export function resultText(result: McpCallResult): string {
  const parts = (result.content ?? []).map((part) => {
    switch (part.type) {
      case 'text':
        return part.text;
      case 'resource':
        return 'text' in part.resource ? part.resource.text : `[resource ${part.resource.uri} (${part.resource.mimeType ?? 'binary'})]`;
      case 'resource_link':
        return `[resource ${part.uri}]`;
      default:
        return `[${part.type}${'mimeType' in part ? ` ${part.mimeType}` : ''}]`;
    }
  });
  if (result.structuredContent !== undefined && parts.length === 0) parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

export function mcpToolDefinition(pool: McpPool, server: string, tool: McpTool, opts: { timeoutMs: number; risk?: McpRiskOverride }): ToolDefinition<Record<string, unknown>> {
  return defineTool({
    name: mcpToolName(server, tool.name),
    description: `${tool.description ?? tool.title ?? tool.name} (MCP server ${server})`,
    input: z.record(z.string(), z.unknown()),
    inputSchema: tool.inputSchema as Record<string, unknown>,
    risk: mcpToolRisk(tool, opts.risk),
    idempotent: mcpToolIdempotent(tool, opts.risk),
    async run(input, ctx) {
      let result: McpCallResult;
      try {
        result = await pool.callTool(server, tool.name, input, {
          meta: { [MCP_IDEMPOTENCY_META_KEY]: ctx.idempotencyKey },
          signal: ctx.signal,
          timeoutMs: opts.timeoutMs,
          onProgress: () => ctx.heartbeat(),
        });
      } catch (err) {
        if (err instanceof McpUnavailableError) throw new ToolUnavailableError(err.message);
        if (err instanceof McpCallError) throw new ToolError(err.message);
        throw err;
      }
      const text = resultText(result);
      if (result.isError) throw new ToolError(text || `${tool.name} failed`);
      return text;
    },
  });
}

/**
 * Lists every configured server's tools once, at worker start. Whatever a server does, the worker starts:
 * a server that cannot be reached is logged and left out (the worker still serves runs); a tool whose name
 * cannot be a tool name, a name listed twice, and a tool that can only run as an MCP task are left out with
 * a log line; the listing itself is bounded (see McpPool.listTools).
 */
export async function loadMcpTools(pool: McpPool, logger: Logger, opts: { timeoutMs: number }): Promise<ToolDefinition<Record<string, unknown>>[]> {
  return Object.values(await loadMcpToolsByServer(pool, logger, opts)).flat();
}

/** The same, by server (in configuration order): a server that could not be reached has no entry, so agents naming it can tell. */
export async function loadMcpToolsByServer(pool: McpPool, logger: Logger, opts: { timeoutMs: number }): Promise<Record<string, ToolDefinition<Record<string, unknown>>[]>> {
  const byServer: Record<string, ToolDefinition<Record<string, unknown>>[]> = {};
  const taken = new Set<string>();
  for (const server of pool.serverNames()) {
    let tools: McpTool[];
    try {
      tools = await pool.listTools(server);
    } catch (err) {
      logger.error({ err, server }, 'MCP server unavailable at start: its tools are not offered by this worker');
      continue;
    }
    const out: ToolDefinition<Record<string, unknown>>[] = (byServer[server] = []);
    const risk = pool.spec(server)?.risk;
    const unmatched = unmatchedRiskKeys(tools, risk);
    if (unmatched.length) logger.warn({ server, tools: unmatched }, 'MCP risk set for tools the server does not list: check their spelling (those entries apply to nothing)');
    const taskOnly: string[] = [];
    const duplicates = new Set<string>();
    let offered = 0;
    for (const tool of tools) {
      const name = mcpToolName(server, tool.name);
      if (!TOOL_NAME.test(name)) {
        logger.warn({ server, tool: tool.name }, `MCP tool left out: ${name} is not a valid tool name (letters, digits, _ and -, at most 64)`);
        continue;
      }
      if (taken.has(name)) {
        duplicates.add(tool.name);
        continue;
      }
      if (needsTasks(tool)) {
        taskOnly.push(tool.name);
        continue;
      }
      taken.add(name);
      offered += 1;
      out.push(mcpToolDefinition(pool, server, tool, { ...opts, risk }));
    }
    if (duplicates.size) logger.warn({ server, tools: [...duplicates] }, 'MCP tools left out: their names were listed more than once (the first of each is offered)');
    if (taskOnly.length) logger.warn({ server, tools: taskOnly }, 'MCP tools left out: they run only as MCP tasks (execution.taskSupport "required"), which this client does not support');
    logger.info({ server, tools: offered }, 'MCP tools loaded');
  }
  return byServer;
}
