/**
 * The child's side of a sandboxed tool call (forked-tool-sandbox.ts): a worker entry started with TOOL_SANDBOX_ENV
 * builds only what finds the tool — the config, the entry's agents and tools, the built-in ones, and the MCP
 * servers' when the tool is one of theirs — takes one call over IPC, runs it, answers and exits. No Temporal
 * connection, no database, no tracing: the worker that forked it records everything. If the tool kills this
 * process, the worker sees the exit.
 */
import type { WorkerDefinition } from '../activities/agents/agent-definition';
import { loadAgentCatalog } from '../activities/agents/load-agents';
import { loadMcpToolsByServer } from '../activities/tools/mcp-tools';
import { ToolError, ToolUnavailableError, type ToolDefinition } from '../activities/tools/tool';
import { serializeOutput } from '../activities/tools/tool-output';
import { TOOL_SANDBOX_ENV, type SandboxedCall, type SandboxErrorKind, type SandboxMessage, type SandboxRequest } from '../activities/tools/tool-sandbox';
import { Workspace } from '../activities/tools/workspace';
import { loadConfig, type Config } from '../shared/config';
import { createLogger, type Logger } from '../shared/logger';
import { redactText } from '../shared/redact';
import { McpPool } from '../shared/mcp/mcp-pool';
import { packageVersion } from '../shared/package-info';
import { builtinToolsFor } from './activity-deps';
import { dieWithParent } from './die-with-parent';

export async function serveSandboxedCall(opts: { definition?: WorkerDefinition; extraTools?: ToolDefinition<any>[] }): Promise<void> {
  // The worker decides this process's life: its drain waits for the call, and it kills the process on cancellation.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => undefined);
  // The worker is gone: nobody is left to tell, and the attempt is lost with it. (While the tool blocks this
  // process's event loop, `disconnect` cannot run: a thread of its own sees the worker gone then.)
  process.once('disconnect', () => process.exit(1));
  dieWithParent(Number(process.env[TOOL_SANDBOX_ENV]));
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'longhaul-tool-sandbox' });
  const { call, aliveEveryMs } = await nextRequest();
  const message = await runCall(call, aliveEveryMs, opts, config, logger);
  // Exits once the answer is out, whatever the tool left open (timers, sockets): the process served its one call.
  // Not before: the entry exits when this returns, and an answer larger than one write to the IPC socket (or
  // queued behind heartbeats) would be cut off, a successful call taken for one that killed its process.
  await new Promise<void>((resolve) => process.send!(message, () => resolve()));
  process.exit(0);
}

function nextRequest(): Promise<SandboxRequest> {
  return new Promise((resolve) => process.once('message', (message: SandboxRequest) => resolve(message)));
}

function answer(message: SandboxMessage): void {
  process.send!(message);
}

async function runCall(call: SandboxedCall, aliveEveryMs: number | undefined, opts: { definition?: WorkerDefinition; extraTools?: ToolDefinition<any>[] }, config: Config, logger: Logger): Promise<SandboxMessage> {
  // As startWorker builds it: the same agents and tools, so the name means the same tool here.
  const definition: WorkerDefinition = { ...opts.definition, agents: opts.definition?.agents ?? [], tools: [...(opts.definition?.tools ?? []), ...(opts.extraTools ?? [])] };
  const toolOf = (mcpTools: Record<string, ToolDefinition<any>[]>) =>
    loadAgentCatalog({ definition, config, builtinTools: builtinToolsFor(config), mcp: { tools: mcpTools } })
      .get(call.agent)
      ?.tools.get(call.tool);
  let mcp: McpPool | undefined;
  try {
    let tool: ToolDefinition<any> | undefined;
    let input: unknown;
    // Anything that keeps this process from making the call is the sandbox's failure, not the tool's (it never ran):
    // the worker runs the call itself, as without a sandbox.
    const unserved = (why: string): SandboxMessage => ({ type: 'unserved', message: redactText(`${call.tool} could not be loaded in its sandbox process: ${why}`) });
    try {
      // The MCP servers are connected only for a tool not found without them: any other tool needs no connection.
      tool = toolOf({});
      if (!tool && Object.keys(config.tools.mcpServers).length > 0) {
        mcp = new McpPool(config.tools.mcpServers, logger, { name: 'longhaul', version: packageVersion() });
        tool = toolOf(await loadMcpToolsByServer(mcp, logger, { timeoutMs: config.activities.toolCallTimeoutSec * 1000 }));
      }
      // Not found here though the worker has it: an MCP server this process could not reach, an agent it lacks.
      if (!tool) return unserved(`no tool ${call.tool} of agent ${call.agent} here (is its MCP server reachable from this process?)`);
      input = tool.input.parse(call.input);
    } catch (err) {
      return unserved(err instanceof Error ? err.message : String(err));
    }
    // Never aborted: a cancelled call's process is killed by the worker.
    const controller = new AbortController();
    // Out before the tool runs: a tool that kills this process at once must still be seen to have started.
    await new Promise<void>((resolve, reject) => process.send!({ type: 'started' } satisfies SandboxMessage, (err: Error | null) => (err ? reject(err) : resolve())));
    // Beats only while the event loop turns: a tool that blocks it is seen to, as a worker that stops heartbeating.
    if (aliveEveryMs !== undefined) setInterval(() => answer({ type: 'alive' }), aliveEveryMs).unref();
    try {
      const output = await tool.run(input, {
        runId: call.runId,
        run: call.run,
        deps: definition.deps,
        idempotencyKey: call.idempotencyKey,
        signal: controller.signal,
        heartbeat: (details) => answer({ type: 'heartbeat', details }),
        workspace: new Workspace(call.workspaceDir, call.workspaceLimits),
        logger: logger.child({ runId: call.runId, tool: call.tool, toolUseId: call.toolUseId, attempt: call.attempt, sandbox: process.pid }),
      });
      return { type: 'output', output: serializeOutput(output) };
    } catch (err) {
      return { type: 'error', kind: errorKind(err), message: err instanceof Error ? err.message : String(err) };
    }
  } finally {
    await mcp?.close();
  }
}

function errorKind(err: unknown): SandboxErrorKind {
  if (err instanceof ToolUnavailableError) return 'ToolUnavailableError';
  if (err instanceof ToolError) return 'ToolError';
  return 'Error';
}
