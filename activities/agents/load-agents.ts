/**
 * The agents a worker serves, loaded once at its start: the built-in default agent (what every run was
 * before agents: Longhaul's system prompt, every built-in tool, the worker's own tools and every MCP
 * server's) and each agent of the worker definition, with its own tool registry and its data and
 * version as the worker publishes them. Whatever is wrong with a definition stops the start here, with
 * an AgentDefinitionError naming the agent and what is wrong; nothing falls back silently.
 */
import type { AgentData, JsonSchema, PublishedSubagent, PublishedTool, ToolApproval, ToolSource } from '../../contract/agents';
import { DEFAULT_AGENT, DELEGATION_TASK_SCHEMA, OUTPUT_TOOL } from '../../contract/agents';
import { DEMO_MODEL } from '../../contract/run';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import { DEFAULT_PRICING } from '../../shared/pricing';
import { SYSTEM_PROMPT } from '../model/prompts';
import { mcpToolName } from '../tools/mcp-tools';
import { TOOL_NAME, ToolRegistry } from '../tools/registry';
import type { ToolDefinition } from '../tools/tool';
import { agentCatalog, type AgentCatalog, type ServedAgent } from './agent-catalog';
import type { AgentDefinition, SubagentRef, WorkerDefinition } from './agent-definition';
import { jsonSchemaOf } from './agent-schemas';
import { agentVersionOf } from './agent-version';
import { AgentDefinitionError, checkWorkerDefinition, DEFAULT_OUTPUT_RETRIES, isMcpRef, subagentName } from './define';

/** A version's name from its data (agent-version.ts), here too for those that load agents. */
export { agentVersionOf };

/** What of the deployment's config the agents' data depends on. */
export interface AgentCatalogConfig {
  model: Pick<Config['model'], 'defaultModel' | 'pricing' | 'allowedModels' | 'promptCaching'>;
  approvals: Pick<Config['approvals'], 'defaultPolicy'>;
  tools: { mcpServers: Record<string, unknown> };
}

export interface LoadAgentsOptions {
  /** The worker entry's definition; none: the default agent alone. */
  definition?: WorkerDefinition;
  config: AgentCatalogConfig;
  /** Longhaul's own tools, as this worker configured them (builtinTools()). */
  builtinTools: ToolDefinition<any>[];
  /** Each MCP server's tools by server name, as listed at this worker's start; a configured server missing here could not be reached. */
  mcp?: { tools: Record<string, ToolDefinition<any>[]> };
  logger?: Logger;
}

/** How Longhaul's built-in agent describes itself in the agents list. */
export const DEFAULT_AGENT_DESCRIPTION = "Longhaul's built-in agent: works toward a goal with every built-in tool, the worker's own tools and every MCP server's tools.";

interface AgentTool {
  tool: ToolDefinition<any>;
  source: ToolSource;
  /** Where the agent named it (for errors). */
  field: string;
}

/** Every model the server knows: what a run of the default agent may ask for, as it may without one. */
function serverModels(config: AgentCatalogConfig): string[] {
  return unique([config.model.defaultModel, DEMO_MODEL, ...Object.keys(DEFAULT_PRICING), ...Object.keys(config.model.pricing ?? {}), ...config.model.allowedModels]);
}

const unique = <T>(items: T[]): T[] => [...new Set(items)];
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function loadAgentCatalog(opts: LoadAgentsOptions): AgentCatalog {
  const { definition, config } = opts;
  if (definition !== undefined) checkWorkerDefinition(definition);
  const builtin = new Map(opts.builtinTools.map((t) => [t.name, t]));
  const workerTools = definition?.tools ?? [];
  workerTools.forEach((tool, i) => {
    if (builtin.has(tool.name)) throw new AgentDefinitionError(undefined, `tools[${i}]`, `${tool.name} is the name of a built-in tool: give yours another name`);
  });
  const worker = new Map(workerTools.map((t) => [t.name, t]));
  const mcpTools = opts.mcp?.tools ?? {};

  const defaultTools: AgentTool[] = [
    ...opts.builtinTools.map((tool) => ({ tool, source: 'builtin' as const, field: 'builtin tools' })),
    ...workerTools.map((tool, i) => ({ tool, source: 'custom' as const, field: `tools[${i}]` })),
    ...Object.values(mcpTools)
      .flat()
      .map((tool) => ({ tool, source: 'mcp' as const, field: 'MCP tools' })),
  ];
  const defaultDefinition: AgentDefinition = {
    name: DEFAULT_AGENT,
    description: DEFAULT_AGENT_DESCRIPTION,
    instructions: SYSTEM_PROMPT,
    tools: defaultTools.map((t) => t.tool),
    promptCaching: config.model.promptCaching,
  };
  const served = [
    servedAgent(defaultDefinition, defaultTools, {
      model: { default: config.model.defaultModel, allowed: serverModels(config) },
      approvals: config.approvals.defaultPolicy,
      promptCaching: config.model.promptCaching,
      builtIn: true,
    }),
  ];
  const known = new Set(serverModels(config));
  const byName = new Map((definition?.agents ?? []).map((a) => [a.name, a]));
  for (const agent of definition?.agents ?? []) {
    const tools = agentTools(agent, { builtin, worker, mcpTools, configured: Object.keys(config.tools.mcpServers), logger: opts.logger });
    const model = modelOf(agent, config);
    // Not an error: the API decides which models it serves, and its configuration may know more than this worker's.
    const unknown = model.allowed.filter((m) => !known.has(m));
    if (unknown.length) opts.logger?.warn({ agent: agent.name, models: unknown }, 'agent names models this deployment does not know (MODEL_PRICING, ALLOWED_MODELS): the API refuses runs that ask for them');
    const subagents = subagentsOf(agent, byName, tools);
    served.push(servedAgent(agent, tools, { model, approvals: policyOf(agent, config), promptCaching: agent.promptCaching ?? true, subagents }));
  }
  return agentCatalog(served);
}

/** The agents `agent` may delegate to, as its version records them (each a tool named after the child agent). */
function subagentsOf(agent: AgentDefinition, byName: Map<string, AgentDefinition>, tools: AgentTool[]): PublishedSubagent[] {
  return (agent.subagents ?? []).map((ref, i) => {
    const field = `subagents[${i}]`;
    const name = subagentName(ref);
    const child = byName.get(name);
    if (!child) throw new AgentDefinitionError(agent.name, field, `${name} is not an agent of this worker definition`);
    if (tools.some((t) => t.tool.name === name)) throw new AgentDefinitionError(agent.name, field, `${name} is also the name of one of this agent's tools: the model could not tell them apart`);
    if (agent.output !== undefined && name === OUTPUT_TOOL) throw new AgentDefinitionError(agent.name, field, `${OUTPUT_TOOL} is the tool an agent with output gives its result with`);
    let inputSchema: JsonSchema = DELEGATION_TASK_SCHEMA;
    if (child.input !== undefined) {
      try {
        inputSchema = jsonSchemaOf(child.input);
      } catch (err) {
        throw new AgentDefinitionError(name, 'input', `cannot be described as JSON Schema (${errorText(err)})`);
      }
      // The delegation's tool input is the child's input as it is, and the Messages API takes only object schemas.
      if (inputSchema.type !== 'object') throw new AgentDefinitionError(agent.name, field, `${name}'s input is not an object schema, so it cannot be a tool's input: give ${name} a z.object input to delegate to it`);
    }
    const own: Exclude<SubagentRef, string> = typeof ref === 'string' ? { agent: name } : ref;
    return { agent: name, description: own.description ?? child.description, inputSchema, limits: { ...own.limits } };
  });
}

function modelOf(agent: AgentDefinition, config: AgentCatalogConfig): AgentData['model'] {
  const { model } = agent;
  if (model === undefined) return { default: config.model.defaultModel, allowed: [config.model.defaultModel] };
  if (typeof model === 'string') return { default: model, allowed: [model] };
  return { default: model.default, allowed: unique([model.default, ...(model.allowed ?? [])]) };
}

function policyOf(agent: AgentDefinition, config: AgentCatalogConfig): AgentData['approvals'] {
  if (typeof agent.approvals === 'string') return agent.approvals;
  return agent.approvals?.policy ?? config.approvals.defaultPolicy;
}

/** The tools an agent names, resolved against this worker's built-in, worker-level and MCP tools. */
function agentTools(
  agent: AgentDefinition,
  ctx: { builtin: Map<string, ToolDefinition<any>>; worker: Map<string, ToolDefinition<any>>; mcpTools: Record<string, ToolDefinition<any>[]>; configured: string[]; logger?: Logger },
): AgentTool[] {
  const fail = (field: string, problem: string): never => {
    throw new AgentDefinitionError(agent.name, field, problem);
  };
  const out: AgentTool[] = [];
  (agent.tools ?? []).forEach((ref, i) => {
    const field = `tools[${i}]`;
    if (typeof ref === 'string') {
      const builtin = ctx.builtin.get(ref);
      const worker = ctx.worker.get(ref);
      if (builtin) out.push({ tool: builtin, source: 'builtin', field });
      else if (worker) out.push({ tool: worker, source: 'custom', field });
      else fail(field, `${ref} names no built-in tool (${[...ctx.builtin.keys()].join(', ')}) and no tool of the worker definition (${[...ctx.worker.keys()].join(', ') || 'none'})`);
    } else if (isMcpRef(ref)) {
      if (!ctx.configured.includes(ref.mcp)) fail(field, `MCP server ${ref.mcp} is not configured (MCP_SERVERS has ${ctx.configured.join(', ') || 'none'})`);
      const offered = ctx.mcpTools[ref.mcp];
      if (!offered) {
        // Unreachable at start: the worker still starts, as without agents, and this agent goes without those tools.
        ctx.logger?.error({ agent: agent.name, server: ref.mcp }, 'MCP server unavailable at start: this agent is served without its tools');
        return;
      }
      const prefix = mcpToolName(ref.mcp, '');
      const byOwnName = new Map(offered.map((tool) => [tool.name.slice(prefix.length), tool]));
      if (!ref.tools) {
        for (const tool of offered) out.push({ tool, source: 'mcp', field });
        return;
      }
      ref.tools.forEach((name, j) => {
        const tool = byOwnName.get(name);
        if (!tool) fail(`${field}.tools[${j}]`, `MCP server ${ref.mcp} offers no tool ${name} (it offers ${[...byOwnName.keys()].join(', ') || 'none'})`);
        out.push({ tool: tool!, source: 'mcp', field: `${field}.tools[${j}]` });
      });
    } else {
      out.push({ tool: ref, source: 'custom', field });
    }
  });
  return out;
}

/** The agent's data, version and registry, from its definition and resolved tools. */
function servedAgent(
  definition: AgentDefinition,
  tools: AgentTool[],
  resolved: { model: AgentData['model']; approvals: AgentData['approvals']; promptCaching: boolean; builtIn?: boolean; subagents?: PublishedSubagent[] },
): ServedAgent {
  // The default agent's mistakes are the worker definition's (its tools), not an agent's someone wrote.
  const agent = resolved.builtIn ? undefined : definition.name;
  const fail = (field: string, problem: string): never => {
    throw new AgentDefinitionError(agent, field, problem);
  };
  const seen = new Set<string>();
  for (const { tool, field } of tools) {
    if (!TOOL_NAME.test(tool.name)) fail(field, `tool name ${JSON.stringify(tool.name)} is not one the Messages API accepts (letters, digits, _ and -, 1 to 64)`);
    if (definition.output !== undefined && tool.name === OUTPUT_TOOL) fail(field, `${OUTPUT_TOOL} is the tool an agent with output gives its result with: name this tool otherwise`);
    if (seen.has(tool.name)) fail(field, `tool ${tool.name} is offered twice`);
    seen.add(tool.name);
  }
  const overrides: Record<string, ToolApproval> = typeof definition.approvals === 'object' ? (definition.approvals.tools ?? {}) : {};
  const names = new Set(tools.map((t) => t.tool.name));
  for (const name of Object.keys(overrides)) {
    if (!names.has(name)) fail(`approvals.tools.${name}`, `names no tool of this agent (its tools: ${[...names].join(', ') || 'none'})`);
  }
  const published: PublishedTool[] = tools.map(({ tool, source, field }) => {
    let inputSchema: JsonSchema;
    try {
      inputSchema = new ToolRegistry([tool]).schemas()[0]!.input_schema as JsonSchema;
    } catch (err) {
      return fail(field, `tool ${tool.name}: its input cannot be described as JSON Schema (${errorText(err)}): use schemas JSON can express`);
    }
    return { name: tool.name, description: tool.description, inputSchema, risk: typeof tool.risk === 'string' ? tool.risk : 'by_input', approval: overrides[tool.name], source };
  });
  const schemaOf = (field: 'input' | 'output'): JsonSchema | null => {
    const schema = definition[field];
    if (schema === undefined) return null;
    try {
      return jsonSchemaOf(schema);
    } catch (err) {
      return fail(field, `cannot be described as JSON Schema (${errorText(err)}): use schemas JSON can express (no dates, maps, sets, bigints or custom checks)`);
    }
  };
  const output = schemaOf('output');
  const data: AgentData = {
    name: definition.name,
    description: definition.description,
    instructions: typeof definition.instructions === 'string' ? definition.instructions : null,
    model: resolved.model,
    tools: published,
    approvals: resolved.approvals,
    limits: { defaults: { ...definition.limits?.defaults }, max: { ...definition.limits?.max } },
    inputSchema: schemaOf('input'),
    outputSchema: output,
    outputRetries: definition.outputRetries ?? DEFAULT_OUTPUT_RETRIES,
    relay: { segmentMaxTurns: definition.relay?.segmentMaxTurns ?? null, summaryInstruction: definition.relay?.summaryInstruction ?? null },
    promptCaching: resolved.promptCaching,
    // Only when there are some: an agent without sub-agents keeps the version it had before they existed.
    ...(resolved.subagents?.length && { subagents: resolved.subagents }),
    // Likewise only when set: an agent that sets none keeps its version.
    ...(definition.subagentBounds && Object.keys(definition.subagentBounds).length && { subagentBounds: { ...definition.subagentBounds } }),
  };
  // The data as stored and read back (JSON drops members that are undefined, such as a tool without an override).
  const stored = JSON.parse(JSON.stringify(data)) as AgentData;
  return { name: definition.name, definition, data: stored, version: agentVersionOf(stored), tools: new ToolRegistry(tools.map((t) => t.tool)) };
}
