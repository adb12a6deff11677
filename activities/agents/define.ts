/**
 * `defineAgent` and `defineWorker`: what a developer writes in a worker entry module. They return
 * their argument (typed), and check at once everything that needs no configuration, so a mistake
 * fails where it was written, naming the agent and the field. What needs the worker's configuration
 * (built-in tool names, MCP servers, the server's model) is checked when the worker loads its agents
 * (load-agents.ts).
 */
import { AGENT_NAME, DEFAULT_AGENT, OUTPUT_TOOL, TOOL_APPROVALS } from '../../contract/agents';
import { APPROVAL_POLICIES, RISKS, type SubagentBounds } from '../../contract/run';
import { TOOL_NAME } from '../tools/registry';
import type { ToolDefinition } from '../tools/tool';
import type { AgentDefinition, AgentToolRef, McpToolsRef, SubagentRef, WorkerDefinition } from './agent-definition';

/** A definition that cannot be served: says which agent (or the worker) and which field, and what is wrong. */
export class AgentDefinitionError extends Error {
  constructor(
    /** The agent's name as written (undefined: the worker definition itself). */
    readonly agent: string | undefined,
    /** The field at fault, as a path (`tools[2]`, `limits.max.maxSteps`). */
    readonly field: string,
    problem: string,
  ) {
    super(`${agent === undefined ? 'worker definition' : `agent ${JSON.stringify(agent)}`}: ${field}: ${problem}`);
    this.name = 'AgentDefinitionError';
  }
}

/** The run limits an agent may set, and whether each must be a whole number. */
const LIMITS: Record<string, { integer: boolean }> = { maxSteps: { integer: true }, maxCostUsd: { integer: false }, maxDurationSec: { integer: true } };

export { DEFAULT_OUTPUT_RETRIES } from '../../contract/agents';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isZodSchema = (v: unknown): boolean => isObject(v) && typeof v.safeParse === 'function';
export const isMcpRef = (ref: AgentToolRef): ref is McpToolsRef => isObject(ref) && typeof ref.mcp === 'string';
export const isToolDefinition = (ref: unknown): ref is ToolDefinition<any> => isObject(ref) && typeof ref.name === 'string' && typeof ref.run === 'function';

/** The name a tool reference gives the model (undefined for an MCP server's tools, which are many). */
export const toolRefName = (ref: AgentToolRef): string | undefined => (typeof ref === 'string' ? ref : isToolDefinition(ref) ? ref.name : undefined);

/** A tool made with `defineTool` as it must be to be offered: a name the Messages API takes, a description, a zod input and a risk. */
export function checkToolDefinition(tool: unknown, fail: (problem: string) => never): void {
  if (!isToolDefinition(tool)) fail('must be a tool made with defineTool (a name and a run function)');
  if (!TOOL_NAME.test(tool.name)) fail(`tool name ${JSON.stringify(tool.name)} is not one the Messages API accepts (letters, digits, _ and -, 1 to 64)`);
  if (typeof tool.description !== 'string' || !tool.description.trim()) fail(`tool ${tool.name}: description must be a non-empty string`);
  if (!isZodSchema(tool.input)) fail(`tool ${tool.name}: input must be a zod schema`);
  if (typeof tool.risk !== 'function' && !(RISKS as readonly unknown[]).includes(tool.risk)) fail(`tool ${tool.name}: risk must be read, write, irreversible or a function of the input`);
}

function checkLimits(fail: (field: string, problem: string) => never, limits: unknown): void {
  if (limits === undefined) return;
  if (!isObject(limits)) fail('limits', 'must be an object { defaults?, max? }');
  for (const key of Object.keys(limits)) if (key !== 'defaults' && key !== 'max') fail(`limits.${key}`, 'is not a limits field (defaults, max)');
  for (const side of ['defaults', 'max'] as const) {
    const given = limits[side];
    if (given === undefined) continue;
    if (!isObject(given)) fail(`limits.${side}`, `must be an object of ${Object.keys(LIMITS).join(', ')}`);
    for (const [key, value] of Object.entries(given)) {
      const rule = LIMITS[key];
      if (!rule) fail(`limits.${side}.${key}`, `is not a run limit (${Object.keys(LIMITS).join(', ')})`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(`limits.${side}.${key}`, `must be a positive number, not ${JSON.stringify(value)}`);
      if (rule.integer && !Number.isInteger(value)) fail(`limits.${side}.${key}`, `must be a whole number, not ${value}`);
    }
  }
  const defaults = (limits.defaults ?? {}) as Record<string, number>;
  const max = (limits.max ?? {}) as Record<string, number>;
  for (const key of Object.keys(defaults)) {
    if (max[key] !== undefined && defaults[key]! > max[key]) fail(`limits.defaults.${key}`, `${defaults[key]} is more than limits.max.${key} (${max[key]})`);
  }
}

function checkTools(fail: (field: string, problem: string) => never, tools: unknown, hasOutput: boolean): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) fail('tools', 'must be an array of tool names, tools made with defineTool, or { mcp: server }');
  const seen = new Set<string>();
  tools.forEach((ref: unknown, i) => {
    const field = `tools[${i}]`;
    if (typeof ref === 'string') {
      if (!TOOL_NAME.test(ref)) fail(field, `${JSON.stringify(ref)} is not a tool name the Messages API accepts (letters, digits, _ and -, 1 to 64)`);
    } else if (isObject(ref) && 'mcp' in ref) {
      if (typeof ref.mcp !== 'string' || !ref.mcp) fail(field, 'mcp must name an MCP server');
      if (ref.tools !== undefined && (!Array.isArray(ref.tools) || ref.tools.some((t) => typeof t !== 'string'))) fail(`${field}.tools`, 'must be an array of the server\'s tool names');
      return;
    } else {
      checkToolDefinition(ref, (problem) => fail(field, problem));
    }
    const name = toolRefName(ref as AgentToolRef)!;
    if (hasOutput && name === OUTPUT_TOOL) fail(field, `${OUTPUT_TOOL} is the tool an agent with output gives its result with: name this tool otherwise`);
    if (seen.has(name)) fail(field, `tool ${name} is named twice`);
    seen.add(name);
  });
}

function checkApprovals(fail: (field: string, problem: string) => never, approvals: unknown): void {
  if (approvals === undefined) return;
  const policies = APPROVAL_POLICIES.join(', ');
  if (typeof approvals === 'string') {
    if (!(APPROVAL_POLICIES as readonly string[]).includes(approvals)) fail('approvals', `${JSON.stringify(approvals)} is not a policy (${policies})`);
    return;
  }
  if (!isObject(approvals)) fail('approvals', `must be a policy (${policies}) or { policy?, tools? }`);
  if (approvals.policy !== undefined && !(APPROVAL_POLICIES as readonly unknown[]).includes(approvals.policy)) fail('approvals.policy', `${JSON.stringify(approvals.policy)} is not a policy (${policies})`);
  if (approvals.tools === undefined) return;
  if (!isObject(approvals.tools)) fail('approvals.tools', 'must map tool names to always, never or by_risk');
  for (const [tool, approval] of Object.entries(approvals.tools)) {
    if (!(TOOL_APPROVALS as readonly unknown[]).includes(approval)) fail(`approvals.tools.${tool}`, `${JSON.stringify(approval)} is not ${TOOL_APPROVALS.join(', ')}`);
  }
}

function checkModel(fail: (field: string, problem: string) => never, model: unknown): void {
  if (model === undefined) return;
  if (typeof model === 'string') {
    if (!model) fail('model', 'must name a model');
    return;
  }
  if (!isObject(model) || typeof model.default !== 'string' || !model.default) fail('model', 'must be a model name or { default, allowed? }');
  if (model.allowed !== undefined && (!Array.isArray(model.allowed) || model.allowed.some((m) => typeof m !== 'string' || !m))) fail('model.allowed', 'must be an array of model names');
}

/** The agents one may delegate to: names (or { agent, description?, limits? }), each once, never itself. */
function checkSubagents(fail: (field: string, problem: string) => never, self: string, subagents: unknown): void {
  if (subagents === undefined) return;
  if (!Array.isArray(subagents)) fail('subagents', 'must be an array of agent names or { agent, description?, limits? }');
  const seen = new Set<string>();
  subagents.forEach((ref: unknown, i) => {
    const field = `subagents[${i}]`;
    if (typeof ref !== 'string' && !isObject(ref)) fail(field, 'must be an agent name or { agent, description?, limits? }');
    const name = typeof ref === 'string' ? ref : ref.agent;
    if (typeof name !== 'string' || !AGENT_NAME.test(name)) fail(field, `must name an agent (${AGENT_NAME.source})`);
    if (name === self) fail(field, 'an agent cannot delegate to itself');
    if (name === DEFAULT_AGENT) fail(field, `${DEFAULT_AGENT} is the built-in agent: delegate to agents of this worker definition`);
    if (seen.has(name)) fail(field, `${name} is named twice`);
    seen.add(name);
    if (typeof ref === 'string') return;
    for (const key of Object.keys(ref)) if (!['agent', 'description', 'limits'].includes(key)) fail(`${field}.${key}`, 'is not a sub-agent field (agent, description, limits)');
    if (ref.description !== undefined && (typeof ref.description !== 'string' || !ref.description.trim())) fail(`${field}.description`, 'must be a non-empty string');
    if (ref.limits === undefined) return;
    if (!isObject(ref.limits)) fail(`${field}.limits`, `must be an object of ${Object.keys(LIMITS).join(', ')}`);
    for (const [key, value] of Object.entries(ref.limits)) {
      const rule = LIMITS[key];
      if (!rule) fail(`${field}.limits.${key}`, `is not a run limit (${Object.keys(LIMITS).join(', ')})`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(`${field}.limits.${key}`, `must be a positive number, not ${JSON.stringify(value)}`);
      if (rule.integer && !Number.isInteger(value)) fail(`${field}.limits.${key}`, `must be a whole number, not ${value}`);
    }
  });
}

/** An agent's own bounds on delegation: whole numbers (depth from 0, the others from 1); the server's maxima clamp them where they are used. */
const BOUNDS: Record<keyof SubagentBounds, number> = { maxParallelChildren: 1, maxDepth: 0, maxChildren: 1 };
function checkSubagentBounds(fail: (field: string, problem: string) => never, bounds: unknown): void {
  if (bounds === undefined) return;
  if (!isObject(bounds)) fail('subagentBounds', `must be an object of ${Object.keys(BOUNDS).join(', ')}`);
  for (const [key, value] of Object.entries(bounds)) {
    const min = BOUNDS[key as keyof SubagentBounds];
    if (min === undefined) fail(`subagentBounds.${key}`, `is not a bound on delegation (${Object.keys(BOUNDS).join(', ')})`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(`subagentBounds.${key}`, `must be a whole number of ${min} or more, not ${JSON.stringify(value)}`);
  }
}

/** The name a sub-agent reference gives. */
export const subagentName = (ref: SubagentRef): string => (typeof ref === 'string' ? ref : ref.agent);

/** Everything about one agent that needs no configuration. Throws AgentDefinitionError. */
export function checkAgentDefinition(def: unknown, where = 'agent'): asserts def is AgentDefinition {
  if (!isObject(def)) throw new AgentDefinitionError(undefined, where, 'must be an agent definition (defineAgent({ name, description, instructions, ... }))');
  const agent = typeof def.name === 'string' ? def.name : String(def.name);
  const fail: (field: string, problem: string) => never = (field, problem) => {
    throw new AgentDefinitionError(agent, field, problem);
  };
  if (typeof def.name !== 'string' || !AGENT_NAME.test(def.name)) fail('name', `must match ${AGENT_NAME.source} (it names the agent's task queue and versions)`);
  if (def.name === DEFAULT_AGENT) fail('name', `${DEFAULT_AGENT} is the built-in agent; give yours another name`);
  if (typeof def.description !== 'string' || !def.description.trim()) fail('description', 'must be a non-empty string');
  if (typeof def.instructions !== 'string' && typeof def.instructions !== 'function') fail('instructions', 'must be a string or a function of the run context');
  if (typeof def.instructions === 'string' && !def.instructions.trim()) fail('instructions', 'must not be empty');
  checkModel(fail, def.model);
  checkTools(fail, def.tools, def.output !== undefined);
  checkApprovals(fail, def.approvals);
  checkLimits(fail, def.limits);
  if (def.input !== undefined && !isZodSchema(def.input)) fail('input', 'must be a zod schema');
  if (def.output !== undefined && !isZodSchema(def.output)) fail('output', 'must be a zod schema');
  if (def.outputRetries !== undefined && (typeof def.outputRetries !== 'number' || !Number.isInteger(def.outputRetries) || def.outputRetries < 0)) {
    fail('outputRetries', `must be a whole number of 0 or more, not ${JSON.stringify(def.outputRetries)}`);
  }
  if (def.relay !== undefined) {
    if (!isObject(def.relay)) fail('relay', 'must be an object { segmentMaxTurns?, summaryInstruction? }');
    const { segmentMaxTurns, summaryInstruction } = def.relay;
    if (segmentMaxTurns !== undefined && (typeof segmentMaxTurns !== 'number' || !Number.isInteger(segmentMaxTurns) || segmentMaxTurns <= 0)) {
      fail('relay.segmentMaxTurns', `must be a positive whole number, not ${JSON.stringify(segmentMaxTurns)}`);
    }
    if (summaryInstruction !== undefined && (typeof summaryInstruction !== 'string' || !summaryInstruction.trim())) fail('relay.summaryInstruction', 'must be a non-empty string');
  }
  if (def.promptCaching !== undefined && typeof def.promptCaching !== 'boolean') fail('promptCaching', 'must be true or false');
  checkSubagents(fail, def.name, def.subagents);
  checkSubagentBounds(fail, def.subagentBounds);
}

/** Everything about a worker definition that needs no configuration: each agent, distinct names, the worker's tools. */
export function checkWorkerDefinition(def: unknown): asserts def is WorkerDefinition {
  if (!isObject(def)) throw new AgentDefinitionError(undefined, 'definition', 'must be defineWorker({ agents, tools?, deps? })');
  if (!Array.isArray(def.agents)) throw new AgentDefinitionError(undefined, 'agents', 'must be an array of agents made with defineAgent');
  const names = new Set<string>();
  def.agents.forEach((agent: unknown, i) => {
    checkAgentDefinition(agent, `agents[${i}]`);
    if (names.has(agent.name)) throw new AgentDefinitionError(agent.name, 'name', 'two agents of this worker have this name');
    names.add(agent.name);
  });
  // A sub-agent must be served where its parent is: the child run's version is the one this worker publishes.
  for (const agent of def.agents as AgentDefinition[]) {
    (agent.subagents ?? []).forEach((ref, i) => {
      const name = subagentName(ref);
      if (!names.has(name)) throw new AgentDefinitionError(agent.name, `subagents[${i}]`, `${name} is not an agent of this worker definition (its agents: ${[...names].join(', ')})`);
    });
  }
  if (def.tools === undefined) return;
  if (!Array.isArray(def.tools)) throw new AgentDefinitionError(undefined, 'tools', 'must be an array of tools made with defineTool');
  const tools = new Set<string>();
  def.tools.forEach((tool: unknown, i) => {
    checkToolDefinition(tool, (problem) => {
      throw new AgentDefinitionError(undefined, `tools[${i}]`, problem);
    });
    const { name } = tool as ToolDefinition<any>;
    if (tools.has(name)) throw new AgentDefinitionError(undefined, `tools[${i}]`, `tool ${name} is named twice`);
    tools.add(name);
  });
}

/** Defines an agent (see AgentDefinition). Checks it at once: a mistake throws AgentDefinitionError naming the agent and the field. */
export function defineAgent<D = any, I = any, O = any>(def: AgentDefinition<D, I, O>): AgentDefinition<D, I, O> {
  checkAgentDefinition(def);
  return def;
}

/** Defines what a worker serves: its agents, the tools they may name, and the deps every tool receives. The entry module's default export. */
export function defineWorker<D = any>(def: WorkerDefinition<D>): WorkerDefinition<D> {
  checkWorkerDefinition(def);
  return def;
}
