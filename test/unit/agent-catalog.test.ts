/**
 * The catalog a worker builds at start: the default agent exactly as runs had it before agents, each
 * defined agent with its own tools and its published data and version, and a clear error for every
 * definition that cannot be served. Also how the worker publishes them.
 */
import { z } from 'zod';
import type { AgentCatalog } from '../../activities/agents/agent-catalog';
import type { AgentDefinition, WorkerDefinition } from '../../activities/agents/agent-definition';
import { outputChecker, outputTool } from '../../activities/agents/output-tool';
import { agentVersionOf, canonicalJson } from '../../activities/agents/agent-version';
import { AgentDefinitionError } from '../../activities/agents/define';
import { loadAgentCatalog, type AgentCatalogConfig } from '../../activities/agents/load-agents';
import { SYSTEM_PROMPT } from '../../activities/model/prompts';
import { builtinTools } from '../../activities/tools/builtin';
import { mcpToolName } from '../../activities/tools/mcp-tools';
import { ToolRegistry } from '../../activities/tools/registry';
import { defineTool, type ToolDefinition } from '../../activities/tools/tool';
import type { AgentData } from '../../contract/agents';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { publishAgents } from '../../worker/agents/publish-agents';

const config: AgentCatalogConfig = {
  model: { defaultModel: 'claude-sonnet-4-5', pricing: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } }, allowedModels: ['allowed-model'], promptCaching: true },
  approvals: { defaultPolicy: 'write' },
  tools: { mcpServers: { docs: {}, down: {} } },
};
const builtin = builtinTools({ http: { allowedHosts: [], timeoutSec: 5, maxResponseBytes: 1024 } });

const tool = (name: string, extra: Partial<ToolDefinition<any>> = {}): ToolDefinition<any> =>
  defineTool({ name, description: `The ${name} tool.`, input: z.object({ id: z.string() }), risk: 'read', run: async () => 'ok', ...extra });
const mcpTool = (server: string, name: string): ToolDefinition<any> => ({ ...tool(mcpToolName(server, name)), inputSchema: { type: 'object', properties: { q: { type: 'string' } } } });
/** The reachable MCP servers' tools ("down" is configured but could not be reached). */
const mcp = { tools: { docs: [mcpTool('docs', 'search'), mcpTool('docs', 'fetch')] } };

const payInvoice = tool('pay_invoice', { risk: (input: { id: string }) => (input.id ? 'irreversible' : 'write') });
const workerTool = tool('lookup_invoice');
const agent: AgentDefinition = {
  name: 'invoice_checker',
  description: 'Checks invoices.',
  instructions: 'Check the invoice against the order.',
  tools: ['workspace_read', 'lookup_invoice', payInvoice, { mcp: 'docs', tools: ['search'] }],
  approvals: { tools: { pay_invoice: 'always', mcp__docs__search: 'never' } },
  input: z.object({ invoiceId: z.string(), amountCents: z.number().int().optional() }),
  output: z.object({ approved: z.boolean(), reason: z.string() }),
  limits: { defaults: { maxSteps: 10 }, max: { maxCostUsd: 1 } },
};

const load = (definition?: WorkerDefinition): AgentCatalog => loadAgentCatalog({ definition, config, builtinTools: builtin, mcp });
const withAgent = (patch: Partial<AgentDefinition>): WorkerDefinition => ({ agents: [{ ...agent, ...patch } as AgentDefinition], tools: [workerTool] });
const loaded = (patch: Partial<AgentDefinition> = {}) => load(withAgent(patch)).get(agent.name)!;

function errorOf(fn: () => unknown): AgentDefinitionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentDefinitionError) return err;
    throw err;
  }
  throw new Error('no AgentDefinitionError was thrown');
}

describe('the default agent', () => {
  it('is what a run was before agents: the system prompt, every built-in tool, the worker’s own and every MCP tool, in that order', () => {
    const catalog = load({ agents: [agent], tools: [workerTool] });
    const served = catalog.get('default')!;
    const before = new ToolRegistry([...builtin, workerTool, ...mcp.tools.docs]);
    expect(served.tools.schemas()).toEqual(before.schemas());
    expect(served.data.instructions).toBe(SYSTEM_PROMPT);
    expect(served.data.tools.map((t) => [t.name, t.source])).toEqual([
      ...builtin.map((t) => [t.name, 'builtin']),
      ['lookup_invoice', 'custom'],
      ['mcp__docs__search', 'mcp'],
      ['mcp__docs__fetch', 'mcp'],
    ]);
    expect(served.data.approvals).toBe('write');
    expect(served.data.model.default).toBe('claude-sonnet-4-5');
    expect(served.data.model.allowed).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'demo', 'my-model', 'allowed-model']));
    expect(served.data).toMatchObject({ inputSchema: null, outputSchema: null, promptCaching: true, relay: { segmentMaxTurns: null, summaryInstruction: null } });
    expect(catalog.all().map((a) => a.name)).toEqual(['default', 'invoice_checker']);
  });

  it('is there without a definition, with the built-in tools alone', () => {
    const catalog = loadAgentCatalog({ config, builtinTools: builtin });
    expect(catalog.all().map((a) => a.name)).toEqual(['default']);
    expect(catalog.get('default')!.tools.names()).toEqual(builtin.map((t) => t.name));
  });

  it('refuses a worker tool with a built-in tool’s name', () => {
    expect(errorOf(() => load({ agents: [], tools: [tool('workspace_read')] })).message).toBe(
      'worker definition: tools[0]: workspace_read is the name of a built-in tool: give yours another name',
    );
  });
});

describe('a defined agent', () => {
  it('has the tools it names and no others, each as published with its risk, source and override', () => {
    const served = loaded();
    expect(served.tools.names()).toEqual(['workspace_read', 'lookup_invoice', 'pay_invoice', 'mcp__docs__search']);
    expect(served.tools.riskOf('pay_invoice', { id: 'x' })).toBe('irreversible');
    expect(served.data.tools).toEqual([
      { name: 'workspace_read', description: expect.any(String), inputSchema: expect.objectContaining({ type: 'object' }), risk: 'read', source: 'builtin' },
      { name: 'lookup_invoice', description: 'The lookup_invoice tool.', inputSchema: expect.objectContaining({ type: 'object' }), risk: 'read', source: 'custom' },
      { name: 'pay_invoice', description: 'The pay_invoice tool.', inputSchema: expect.objectContaining({ type: 'object' }), risk: 'by_input', approval: 'always', source: 'custom' },
      { name: 'mcp__docs__search', description: 'The mcp__docs__search tool.', inputSchema: { type: 'object', properties: { q: { type: 'string' } } }, risk: 'read', approval: 'never', source: 'mcp' },
    ]);
    // The schemas the model is offered are the ones published.
    expect(served.tools.schemas().map((s) => s.input_schema)).toEqual(served.data.tools.map((t) => t.inputSchema));
  });

  it('takes every tool of an MCP server without a filter, and none of one that could not be reached', () => {
    expect(loaded({ tools: [{ mcp: 'docs' }, { mcp: 'down' }], approvals: undefined }).tools.names()).toEqual(['mcp__docs__search', 'mcp__docs__fetch']);
  });

  it('publishes its data as JSON, with the defaults filled in', () => {
    const served = loaded();
    expect(served.data).toEqual({
      name: 'invoice_checker',
      description: 'Checks invoices.',
      instructions: 'Check the invoice against the order.',
      model: { default: 'claude-sonnet-4-5', allowed: ['claude-sonnet-4-5'] },
      tools: expect.any(Array),
      approvals: 'write',
      limits: { defaults: { maxSteps: 10 }, max: { maxCostUsd: 1 } },
      inputSchema: { type: 'object', properties: { invoiceId: { type: 'string' }, amountCents: { type: 'integer', minimum: expect.any(Number), maximum: expect.any(Number) } }, required: ['invoiceId'] },
      outputSchema: { type: 'object', properties: { approved: { type: 'boolean' }, reason: { type: 'string' } }, required: ['approved', 'reason'] },
      outputRetries: 2,
      relay: { segmentMaxTurns: null, summaryInstruction: null },
      promptCaching: true,
    });
    expect(JSON.parse(JSON.stringify(served.data))).toEqual(served.data);
    expect(served.version).toMatch(/^[0-9a-f]{16}$/);
    expect(served.version).toBe(agentVersionOf(served.data));
  });

  it('resolves its model, policy, relay and caching as it gives them', () => {
    expect(loaded({ model: 'claude-opus-4-1' }).data.model).toEqual({ default: 'claude-opus-4-1', allowed: ['claude-opus-4-1'] });
    expect(loaded({ model: { default: 'a', allowed: ['b', 'a'] } }).data.model).toEqual({ default: 'a', allowed: ['a', 'b'] });
    expect(loaded({ approvals: 'all' }).data.approvals).toBe('all');
    expect(loaded({ approvals: { policy: 'none' } }).data.approvals).toBe('none');
    expect(loaded({ relay: { segmentMaxTurns: 7, summaryInstruction: 'Hand over.' } }).data.relay).toEqual({ segmentMaxTurns: 7, summaryInstruction: 'Hand over.' });
    expect(loaded({ promptCaching: false, outputRetries: 0 }).data).toMatchObject({ promptCaching: false, outputRetries: 0 });
    expect(loaded({ instructions: () => 'Check.' }).data.instructions).toBeNull();
    expect(loaded({ input: undefined, output: undefined }).data).toMatchObject({ inputSchema: null, outputSchema: null });
  });

  it('warns of models the deployment does not know, without refusing them (the API decides)', () => {
    const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
    loadAgentCatalog({ definition: withAgent({ model: { default: 'demo', allowed: ['my-model', 'mystery-model'] } }), config, builtinTools: builtin, mcp, logger });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith({ agent: 'invoice_checker', models: ['mystery-model'] }, expect.stringContaining('does not know'));
  });

  it('records an output schema as it is, and offers one that is not an object as { result }, taking the run’s output from it', () => {
    const { outputSchema } = loaded({ output: z.array(z.string()) }).data;
    expect(outputSchema).toEqual({ type: 'array', items: { type: 'string' } });
    expect(outputTool(outputSchema!).input_schema).toEqual({ type: 'object', properties: { result: { type: 'array', items: { type: 'string' } } }, required: ['result'], additionalProperties: false });
    expect(outputChecker(outputSchema!)({ result: ['a'] })).toEqual({ valid: true, output: ['a'] });
    expect(outputChecker(loaded().data.outputSchema!)({ approved: true, reason: 'ok' })).toEqual({ valid: true, output: { approved: true, reason: 'ok' } });
  });
});

describe('a definition that cannot be served stops the start, naming the agent and what is wrong', () => {
  it.each<[string, () => unknown, string]>([
    ['two agents of one name', () => load({ agents: [agent, { ...agent, description: 'Again.' }], tools: [workerTool] }), 'agent "invoice_checker": name: two agents of this worker have this name'],
    ['an agent named default', () => load({ agents: [{ ...agent, name: 'default' }], tools: [workerTool] }), 'agent "default": name: default is the built-in agent'],
    ['a tool name the Messages API refuses', () => load(withAgent({ tools: [tool('pay invoice')] })), 'agent "invoice_checker": tools[0]: tool name "pay invoice" is not one the Messages API accepts'],
    ['final_result on an agent with output', () => load(withAgent({ tools: [tool('final_result')] })), 'agent "invoice_checker": tools[0]: final_result is the tool an agent with output gives its result with'],
    ['a tool named twice', () => load(withAgent({ tools: ['lookup_invoice', workerTool] })), 'agent "invoice_checker": tools[1]: tool lookup_invoice is named twice'],
    ['an MCP tool offered twice', () => load(withAgent({ tools: [{ mcp: 'docs' }, { mcp: 'docs', tools: ['search'] }] })), 'agent "invoice_checker": tools[1].tools[0]: tool mcp__docs__search is offered twice'],
    ['a string naming no tool', () => load(withAgent({ tools: ['lookup_order'] })), 'agent "invoice_checker": tools[0]: lookup_order names no built-in tool ('],
    ['an MCP server not configured', () => load(withAgent({ tools: [{ mcp: 'crm' }] })), 'agent "invoice_checker": tools[0]: MCP server crm is not configured (MCP_SERVERS has docs, down)'],
    ['an MCP filter naming a tool the server lacks', () => load(withAgent({ tools: [{ mcp: 'docs', tools: ['search', 'delete'] }] })), 'agent "invoice_checker": tools[0].tools[1]: MCP server docs offers no tool delete (it offers search, fetch)'],
    ['an input JSON Schema cannot say', () => load(withAgent({ input: z.object({ due: z.date() }) })), 'agent "invoice_checker": input: cannot be described as JSON Schema (Date cannot be represented in JSON Schema)'],
    ['an output JSON Schema cannot say', () => load(withAgent({ output: z.map(z.string(), z.string()) })), 'agent "invoice_checker": output: cannot be described as JSON Schema (Map cannot be represented'],
    ['a tool input JSON Schema cannot say', () => load(withAgent({ tools: [tool('pay_invoice', { input: z.object({ cents: z.bigint() }) })], approvals: undefined })), 'agent "invoice_checker": tools[0]: tool pay_invoice: its input cannot be described as JSON Schema'],
    ['a worker tool input JSON Schema cannot say', () => load({ agents: [], tools: [tool('lookup_invoice', { input: z.object({ at: z.date() }) })] }), 'worker definition: tools[0]: tool lookup_invoice: its input cannot be described'],
    ['an override naming a tool the agent lacks', () => load(withAgent({ approvals: { tools: { pay_invoice: 'always', mcp__docs__fetch: 'never' } } })), 'agent "invoice_checker": approvals.tools.mcp__docs__fetch: names no tool of this agent (its tools: workspace_read, lookup_invoice, pay_invoice, mcp__docs__search)'],
  ])('%s', (_what, fn, message) => {
    expect(errorOf(fn).message).toContain(message);
  });
});

describe('an agent version', () => {
  const version = (patch: Partial<AgentDefinition> = {}) => loaded(patch).version;

  it('is the same for the same data, whatever the order of its keys', () => {
    const reordered: AgentDefinition = {
      limits: { max: { maxCostUsd: 1 }, defaults: { maxSteps: 10 } },
      output: agent.output,
      input: z.object({ amountCents: z.number().int().optional(), invoiceId: z.string() }).required({ invoiceId: true }),
      approvals: { tools: { mcp__docs__search: 'never', pay_invoice: 'always' } },
      tools: agent.tools,
      instructions: agent.instructions,
      description: agent.description,
      name: agent.name,
    };
    expect(load({ agents: [reordered], tools: [workerTool] }).get(agent.name)!.version).toBe(version());
    expect(version()).toBe(version());
    const data = loaded().data;
    const shuffled = Object.fromEntries(Object.entries(data).reverse()) as unknown as AgentData;
    expect(canonicalJson(shuffled)).toBe(canonicalJson(data));
    expect(agentVersionOf(shuffled)).toBe(agentVersionOf(data));
  });

  it('does not change with code: an instructions function or a tool’s body', () => {
    expect(version({ instructions: () => 'one' })).toBe(version({ instructions: async () => 'two' }));
    const other = { ...payInvoice, run: async () => 'different' };
    expect(version({ tools: ['workspace_read', 'lookup_invoice', other, { mcp: 'docs', tools: ['search'] }] })).toBe(version());
  });

  it('changes with data: an instruction string, a tool’s schema, a limit', () => {
    const changedSchema = tool('pay_invoice', { input: z.object({ id: z.string(), cents: z.number() }), risk: payInvoice.risk });
    const versions = [
      version(),
      version({ instructions: 'Check the invoice against the order twice.' }),
      version({ tools: ['workspace_read', 'lookup_invoice', changedSchema, { mcp: 'docs', tools: ['search'] }] }),
      version({ limits: { defaults: { maxSteps: 11 }, max: { maxCostUsd: 1 } } }),
    ];
    expect(new Set(versions).size).toBe(versions.length);
  });
});

describe('publishing a worker’s agents', () => {
  afterEach(() => jest.useRealTimers());

  function fakeStore(opts: { beatFails?: number } = {}) {
    const calls: string[] = [];
    let failures = opts.beatFails ?? 0;
    const agents = {
      publishVersion: async (name: string, version: string) => void calls.push(`publish ${name}@${version}`),
      serve: async (identity: string, served: { agent: string; version: string }[]) => void calls.push(`serve ${identity} ${served.map((s) => `${s.agent}@${s.version}`).join(',')}`),
      beat: async (identity: string) => {
        calls.push(`beat ${identity}`);
        if (failures-- > 0) throw new Error('database away');
      },
      withdraw: async (identity: string) => void calls.push(`withdraw ${identity}`),
    };
    return { store: { agents } as unknown as Store, calls, beats: () => calls.filter((c) => c.startsWith('beat')).length };
  }

  it('publishes each version, says what it serves, beats (a failed beat is logged, not fatal), and withdraws once', async () => {
    jest.useFakeTimers();
    const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
    const catalog = load({ agents: [agent], tools: [workerTool] });
    const [def, own] = catalog.all();
    const { store, calls, beats } = fakeStore({ beatFails: 1 });
    const published = await publishAgents({ store, identity: 'w-1', agents: catalog, logger, beatMs: 1000 });
    expect(calls).toEqual([`publish default@${def!.version}`, `publish invoice_checker@${own!.version}`, `serve w-1 default@${def!.version},invoice_checker@${own!.version}`]);
    await jest.advanceTimersByTimeAsync(999);
    expect(beats()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(beats()).toBe(1);
    expect(logger.warn).toHaveBeenCalledWith({ err: expect.objectContaining({ message: 'database away' }) }, expect.stringContaining('still serves'));
    // The failed beat stopped nothing: the next ones come.
    await jest.advanceTimersByTimeAsync(2000);
    expect(beats()).toBe(3);
    await Promise.all([published.withdraw(), published.withdraw()]);
    expect(calls.filter((c) => c.startsWith('withdraw'))).toEqual(['withdraw w-1']);
    // Withdrawn: no more beats.
    await jest.advanceTimersByTimeAsync(5000);
    expect(beats()).toBe(3);
  });
});
