/**
 * Sub-agents in an agent's definition and data: checked where they are written, recorded in the version
 * (so a change of them is a new version) only when there are some, and offered to the model as tools
 * named after the child agents, rated `write`, marked as delegations.
 */
import { z } from 'zod';
import type { AgentDefinition, WorkerDefinition } from '../../activities/agents/agent-definition';
import { AgentDefinitionError, defineAgent, defineWorker } from '../../activities/agents/define';
import { loadAgentCatalog, type AgentCatalogConfig } from '../../activities/agents/load-agents';
import { createRunAgents } from '../../activities/agents/run-agent';
import { ToolRegistry } from '../../activities/tools/registry';
import { DELEGATION_TASK_SCHEMA, delegationKey } from '../../contract/agents';
import { SUBAGENT_BOUNDS, subagentBoundsOf } from '../../contract/run';
import { loadConfig } from '../../shared/config';
import { runInputFor } from '../../shared/runs/run-input';
import type { ActivityDeps } from '../../activities/deps';
import type { Store } from '../../shared/store';

const config: AgentCatalogConfig = {
  model: { defaultModel: 'claude-sonnet-4-5', pricing: {}, allowedModels: [], promptCaching: true },
  approvals: { defaultPolicy: 'none' },
  tools: { mcpServers: {} },
};

const researcher: AgentDefinition = { name: 'researcher', description: 'Finds things out.', instructions: 'Research.', input: z.object({ topic: z.string() }) };
const writer: AgentDefinition = { name: 'writer', description: 'Writes things.', instructions: 'Write.' };
const lead: AgentDefinition = {
  name: 'lead',
  description: 'Leads.',
  instructions: 'Delegate.',
  subagents: ['researcher', { agent: 'writer', description: 'Writes the report from notes.', limits: { maxSteps: 5 } }],
};
const load = (agents: AgentDefinition[]) => loadAgentCatalog({ definition: { agents }, config, builtinTools: [] });

function definitionError(fn: () => unknown): AgentDefinitionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentDefinitionError) return err;
    throw err;
  }
  throw new Error('no AgentDefinitionError');
}

describe('sub-agents of an agent', () => {
  it('are recorded in its data: the child input schema or { task }, the description override, the per-child caps', () => {
    const data = load([lead, researcher, writer]).get('lead')!.data;
    expect(data.subagents).toEqual([
      { agent: 'researcher', description: 'Finds things out.', inputSchema: expect.objectContaining({ type: 'object', properties: { topic: { type: 'string' } } }), limits: {} },
      { agent: 'writer', description: 'Writes the report from notes.', inputSchema: DELEGATION_TASK_SCHEMA, limits: { maxSteps: 5 } },
    ]);
  });

  it('are part of the version, and an agent without them keeps the version it had (no subagents member at all)', () => {
    const without = load([{ ...lead, subagents: undefined }, researcher, writer]).get('lead')!;
    const withThem = load([lead, researcher, writer]).get('lead')!;
    expect('subagents' in without.data).toBe(false);
    expect(load([{ ...lead, subagents: [] }, researcher, writer]).get('lead')!.version).toBe(without.version);
    expect(withThem.version).not.toBe(without.version);
    const other = load([{ ...lead, subagents: ['researcher'] }, researcher, writer]).get('lead')!;
    expect(other.version).not.toBe(withThem.version);
  });

  it('must be agents of the same worker definition', () => {
    const err = definitionError(() => defineWorker({ agents: [lead, researcher] } as WorkerDefinition));
    expect(err.message).toBe('agent "lead": subagents[1]: writer is not an agent of this worker definition (its agents: lead, researcher)');
  });

  it('are checked where they are written: a name, once, not itself, not the built-in agent, known fields, positive caps', () => {
    const bad = (subagents: unknown) => definitionError(() => defineAgent({ ...lead, subagents } as AgentDefinition)).message;
    expect(bad('researcher')).toMatch(/subagents: must be an array/);
    expect(bad(['Researcher'])).toMatch(/subagents\[0\]: must name an agent/);
    expect(bad(['lead'])).toMatch(/subagents\[0\]: an agent cannot delegate to itself/);
    expect(bad(['default'])).toMatch(/subagents\[0\]: default is the built-in agent/);
    expect(bad(['writer', { agent: 'writer' }])).toMatch(/subagents\[1\]: writer is named twice/);
    expect(bad([{ agent: 'writer', model: 'x' }])).toMatch(/subagents\[0\]\.model: is not a sub-agent field/);
    expect(bad([{ agent: 'writer', limits: { maxSteps: 0 } }])).toMatch(/subagents\[0\]\.limits\.maxSteps: must be a positive number/);
    expect(bad([{ agent: 'writer', limits: { maxTurns: 3 } }])).toMatch(/subagents\[0\]\.limits\.maxTurns: is not a run limit/);
  });

  it('must take an object input (or none) to be delegated to: the input is the tool\'s, and tools take objects', () => {
    const err = definitionError(() => load([lead, { ...researcher, input: z.string() }, writer]));
    expect(err.message).toMatch(/agent "lead": subagents\[0\]: researcher's input is not an object schema/);
  });

  it('may not share a name with one of the agent\'s tools', () => {
    const tool = { name: 'writer', description: 'A tool.', input: z.object({}), risk: 'read' as const, run: async () => 'ok' };
    const err = definitionError(() => load([{ ...lead, tools: [tool] }, researcher, writer]));
    expect(err.message).toMatch(/subagents\[1\]: writer is also the name of one of this agent's tools/);
  });

  it('reach the model as tools named after the child agents, rated write, and a call of one is a delegation', async () => {
    const catalog = load([lead, researcher, writer]);
    const served = catalog.get('lead')!;
    const store = { agents: { version: async () => ({ name: 'lead', version: served.version, data: served.data, publishedAt: '' }) } } as unknown as Store;
    const agents = createRunAgents({ store, agents: catalog, tools: new ToolRegistry([]), settings: { config: { approvals: { minPolicy: 'none' } } } } as unknown as ActivityDeps);
    const agent = { served, version: await agents.pinned('lead', served.version) };
    expect(agent.version.toolSchemas.map((t) => t.name)).toEqual(['researcher', 'writer']);
    expect(agent.version.toolSchemas[1]).toEqual({ name: 'writer', description: 'Writes the report from notes.', input_schema: DELEGATION_TASK_SCHEMA });
    expect(agents.isDelegation(agent, 'writer')).toBe(true);
    expect(agents.isDelegation(agent, 'workspace_read')).toBe(false);
    expect(agents.isDelegation(null, 'writer')).toBe(false);
    expect(agents.riskOf(agent, 'writer', { task: 'x' })).toBe('write');
  });

  it('take their bounds from the agent (subagentBounds), checked where written, recorded in the version only when set', () => {
    const bad = (subagentBounds: unknown) => definitionError(() => defineAgent({ ...lead, subagentBounds } as AgentDefinition)).message;
    expect(bad(3)).toMatch(/subagentBounds: must be an object of maxParallelChildren, maxDepth, maxChildren/);
    expect(bad({ maxParallelChildren: 0 })).toMatch(/subagentBounds\.maxParallelChildren: must be a whole number of 1 or more, not 0/);
    expect(bad({ maxChildren: 2.5 })).toMatch(/subagentBounds\.maxChildren: must be a whole number of 1 or more/);
    expect(bad({ maxDepth: -1 })).toMatch(/subagentBounds\.maxDepth: must be a whole number of 0 or more/);
    expect(bad({ maxWidth: 2 })).toMatch(/subagentBounds\.maxWidth: is not a bound on delegation/);
    expect(() => defineAgent({ ...lead, subagentBounds: { maxDepth: 0 } })).not.toThrow(); // a lead whose children delegate nothing

    const plain = load([lead, researcher, writer]).get('lead')!;
    const bounded = load([{ ...lead, subagentBounds: { maxParallelChildren: 2 } }, researcher, writer]).get('lead')!;
    expect('subagentBounds' in plain.data).toBe(false);
    expect(load([{ ...lead, subagentBounds: {} }, researcher, writer]).get('lead')!.version).toBe(plain.version);
    expect(bounded.data.subagentBounds).toEqual({ maxParallelChildren: 2 });
    expect(bounded.version).not.toBe(plain.version);
  });

  it("are clamped to the server's maxima (SUBAGENTS_MAX_*), which default to today's bounds", () => {
    const server = loadConfig({}).subagents;
    expect(server).toEqual(SUBAGENT_BOUNDS);
    expect(subagentBoundsOf(server, undefined)).toEqual(SUBAGENT_BOUNDS);
    expect(subagentBoundsOf(server, { maxParallelChildren: 2, maxDepth: 1 })).toEqual({ maxParallelChildren: 2, maxDepth: 1, maxChildren: 50 });
    expect(subagentBoundsOf({ maxParallelChildren: 3, maxDepth: 2, maxChildren: 10 }, { maxParallelChildren: 8, maxDepth: 5, maxChildren: 100 })).toEqual({ maxParallelChildren: 3, maxDepth: 2, maxChildren: 10 });
    expect(() => loadConfig({ SUBAGENTS_MAX_PARALLEL_CHILDREN: '0' })).toThrow(/SUBAGENTS_MAX_PARALLEL_CHILDREN/);
    expect(() => loadConfig({ SUBAGENTS_MAX_CHILDREN: '5000' })).toThrow(/SUBAGENTS_MAX_CHILDREN/);
  });

  it("give a run its parallel bound in its settings, the agent's within the server's", () => {
    const run = { id: 'run_1', owner: 'alice', model: 'claude-sonnet-4-5', approvals: 'none' as const, limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } };
    const config = loadConfig({ SUBAGENTS_MAX_PARALLEL_CHILDREN: '6' });
    const data = (subagentBounds?: { maxParallelChildren: number }) => load([{ ...lead, subagentBounds }, researcher, writer]).get('lead')!.data;
    expect(runInputFor(config, run, 60).settings.maxParallelChildren).toBe(6);
    expect(runInputFor(config, run, 60, data()).settings.maxParallelChildren).toBe(6);
    expect(runInputFor(config, run, 60, data({ maxParallelChildren: 2 })).settings.maxParallelChildren).toBe(2);
    expect(runInputFor(config, run, 60, data({ maxParallelChildren: 20 })).settings.maxParallelChildren).toBe(6);
  });

  it('are keyed by the parent\'s call', () => {
    expect(delegationKey('run_1', 3, 'toolu_9')).toBe('run_1:turn:3:tool:toolu_9');
  });
});
