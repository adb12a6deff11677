/**
 * defineAgent and defineWorker check at once what needs no configuration, and a mistake names the
 * agent and the field that is wrong.
 */
import { z } from 'zod';
import { AgentDefinitionError, defineAgent, defineWorker } from '../../activities/agents/define';
import type { AgentDefinition } from '../../activities/agents/agent-definition';
import { defineTool } from '../../activities/tools/tool';

const lookup = defineTool({
  name: 'lookup_invoice',
  description: 'Looks an invoice up.',
  input: z.object({ invoiceId: z.string() }),
  risk: 'read',
  run: async ({ invoiceId }) => ({ invoiceId, amountCents: 4200 }),
});

const base: AgentDefinition = { name: 'invoice_checker', description: 'Checks invoices.', instructions: 'Check the invoice.' };

/** The AgentDefinitionError a definition throws (fails the test when it throws none). */
function errorOf(fn: () => unknown): AgentDefinitionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentDefinitionError) return err;
    throw err;
  }
  throw new Error('no AgentDefinitionError was thrown');
}

const agentError = (patch: Record<string, unknown>) => errorOf(() => defineAgent({ ...base, ...patch } as AgentDefinition));

describe('defineAgent', () => {
  it('returns the definition it was given, with its types inferred', () => {
    const agent = defineAgent({
      ...base,
      input: z.object({ invoiceId: z.string(), amountCents: z.number().int() }),
      output: z.object({ approved: z.boolean() }),
      tools: ['workspace_read', lookup, { mcp: 'docs', tools: ['search'] }],
      approvals: { policy: 'write', tools: { lookup_invoice: 'always' } },
      limits: { defaults: { maxSteps: 10 }, max: { maxSteps: 20, maxCostUsd: 0.5 } },
      outputRetries: 0,
      relay: { segmentMaxTurns: 5, summaryInstruction: 'Summarise.' },
      promptCaching: false,
    });
    expect(agent.name).toBe('invoice_checker');
    // Compile-time: the input and output types are the schemas'.
    const input: { invoiceId: string; amountCents: number } | undefined = agent.input?.parse({ invoiceId: 'INV-1', amountCents: 1 });
    const output: { approved: boolean } | undefined = agent.output?.parse({ approved: true });
    expect([input, output]).toEqual([{ invoiceId: 'INV-1', amountCents: 1 }, { approved: true }]);
  });

  it.each([
    ['a name that is not an agent name', { name: 'Invoice Checker' }, 'Invoice Checker', 'name'],
    ['a name too long', { name: `a${'b'.repeat(64)}` }, `a${'b'.repeat(64)}`, 'name'],
    ['the built-in agent’s name', { name: 'default' }, 'default', 'name'],
    ['an empty description', { description: '  ' }, 'invoice_checker', 'description'],
    ['no instructions', { instructions: undefined }, 'invoice_checker', 'instructions'],
    ['a negative outputRetries', { outputRetries: -1 }, 'invoice_checker', 'outputRetries'],
    ['a fractional outputRetries', { outputRetries: 1.5 }, 'invoice_checker', 'outputRetries'],
    ['a zero limit', { limits: { max: { maxSteps: 0 } } }, 'invoice_checker', 'limits.max.maxSteps'],
    ['a negative limit', { limits: { defaults: { maxCostUsd: -1 } } }, 'invoice_checker', 'limits.defaults.maxCostUsd'],
    ['a limit that is not a number', { limits: { defaults: { maxDurationSec: '60' } } }, 'invoice_checker', 'limits.defaults.maxDurationSec'],
    ['an infinite limit', { limits: { max: { maxCostUsd: Infinity } } }, 'invoice_checker', 'limits.max.maxCostUsd'],
    ['a fractional step limit', { limits: { max: { maxSteps: 2.5 } } }, 'invoice_checker', 'limits.max.maxSteps'],
    ['a limit that is not one', { limits: { max: { maxTokens: 5 } } }, 'invoice_checker', 'limits.max.maxTokens'],
    ['a default above the maximum', { limits: { defaults: { maxSteps: 30 }, max: { maxSteps: 20 } } }, 'invoice_checker', 'limits.defaults.maxSteps'],
    ['an unknown policy', { approvals: 'sometimes' }, 'invoice_checker', 'approvals'],
    ['an unknown per-tool approval', { approvals: { tools: { lookup_invoice: 'maybe' } } }, 'invoice_checker', 'approvals.tools.lookup_invoice'],
    ['a tool name the Messages API refuses', { tools: ['look up'] }, 'invoice_checker', 'tools[0]'],
    ['a defineTool with a refused name', { tools: [{ ...lookup, name: 'lookup.invoice' }] }, 'invoice_checker', 'tools[0]'],
    ['a tool named twice', { tools: [lookup, 'workspace_read', 'lookup_invoice'] }, 'invoice_checker', 'tools[2]'],
    ['final_result on an agent with output', { output: z.object({ ok: z.boolean() }), tools: [{ ...lookup, name: 'final_result' }] }, 'invoice_checker', 'tools[0]'],
    ['an input that is not a zod schema', { input: { type: 'object' } }, 'invoice_checker', 'input'],
    ['a relay of zero turns', { relay: { segmentMaxTurns: 0 } }, 'invoice_checker', 'relay.segmentMaxTurns'],
    ['a model that is no name', { model: { allowed: ['demo'] } }, 'invoice_checker', 'model'],
  ])('refuses %s, naming the agent and the field', (_what, patch, agent, field) => {
    const err = agentError(patch);
    expect(err.agent).toBe(agent);
    expect(err.field).toBe(field);
    expect(err.message).toContain(`agent ${JSON.stringify(agent)}: ${field}: `);
  });

  it('lets final_result be a tool’s name when the agent has no output', () => {
    expect(defineAgent({ ...base, tools: [{ ...lookup, name: 'final_result' }] }).tools).toHaveLength(1);
  });
});

describe('defineWorker', () => {
  const other = defineAgent({ ...base, name: 'other' });

  it('returns the definition it was given', () => {
    const def = { agents: [defineAgent(base), other], tools: [lookup], deps: { db: 'x' } };
    expect(defineWorker(def)).toBe(def);
  });

  it('refuses two agents of one name', () => {
    const err = errorOf(() => defineWorker({ agents: [defineAgent(base), other, defineAgent({ ...base, description: 'Another.' })] }));
    expect(err.message).toBe('agent "invoice_checker": name: two agents of this worker have this name');
  });

  it('checks agents that were not made with defineAgent', () => {
    const err = errorOf(() => defineWorker({ agents: [{ ...base, outputRetries: -2 }] }));
    expect([err.agent, err.field]).toEqual(['invoice_checker', 'outputRetries']);
  });

  it('refuses worker tools with a refused name, or named twice', () => {
    expect(errorOf(() => defineWorker({ agents: [], tools: [{ ...lookup, name: 'bad name' }] })).message).toMatch(/^worker definition: tools\[0\]: tool name "bad name"/);
    expect(errorOf(() => defineWorker({ agents: [], tools: [lookup, lookup] })).message).toBe('worker definition: tools[1]: tool lookup_invoice is named twice');
  });

  it('refuses what is not a worker definition', () => {
    expect(errorOf(() => defineWorker({} as never)).field).toBe('agents');
  });
});
