/**
 * The agents a worker serves, as its activities use them: each one's definition (code), its published
 * data and version, and its own tool registry (built-in tools it names, its custom tools, its MCP
 * servers' tools). Built once at worker start from the worker definition (see loadAgentCatalog).
 */
import type { AgentData } from '../../contract/agents';
import type { ToolRegistry } from '../tools/registry';
import type { AgentDefinition } from './agent-definition';

export interface ServedAgent {
  name: string;
  /** The developer's definition; for the built-in default agent, one built from Longhaul's own system prompt and tools. */
  definition: AgentDefinition;
  data: AgentData;
  /** A hash of `data` (see agentVersionOf). */
  version: string;
  /** The tools this agent's calls run with, by this worker's current code. */
  tools: ToolRegistry;
}

export interface AgentCatalog {
  /** The agent of this name this worker serves (`default` is the built-in agent). */
  get(name: string): ServedAgent | undefined;
  all(): ServedAgent[];
}

/** A catalog of the given agents, by name. */
export function agentCatalog(agents: ServedAgent[]): AgentCatalog {
  const byName = new Map(agents.map((a) => [a.name, a]));
  return { get: (name) => byName.get(name), all: () => [...byName.values()] };
}
