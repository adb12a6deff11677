/** Agent version data as a worker would publish it, for tests that put agents straight into the store. */
import type { AgentData } from '../../contract/agents';

export function agentData(over: Partial<AgentData> & { name: string }): AgentData {
  return {
    description: `the ${over.name} agent`,
    instructions: 'Be brief.',
    model: { default: 'demo', allowed: ['demo'] },
    tools: [],
    approvals: 'write',
    limits: { defaults: {}, max: {} },
    inputSchema: null,
    outputSchema: null,
    outputRetries: 2,
    relay: { segmentMaxTurns: null, summaryInstruction: null },
    promptCaching: false,
    ...over,
  };
}

/** An invoice check: structured input and output, one custom tool that writes. */
export const INVOICE_CHECKER = agentData({
  name: 'invoice_checker',
  description: 'Checks an invoice against its order',
  inputSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { invoiceId: { type: 'string', pattern: '^INV-' }, amountCents: { type: 'integer', minimum: 0 } },
    required: ['invoiceId', 'amountCents'],
    additionalProperties: false,
  },
  outputSchema: { type: 'object', properties: { approved: { type: 'boolean' }, reason: { type: 'string' } }, required: ['approved', 'reason'] },
  tools: [
    { name: 'pay_invoice', description: 'Pays an invoice', inputSchema: { type: 'object', properties: { invoiceId: { type: 'string' } } }, risk: 'irreversible', approval: 'always', source: 'custom' },
    { name: 'lookup_invoice', description: 'Reads an invoice', inputSchema: { type: 'object', properties: {} }, risk: 'by_input', source: 'custom' },
  ],
  limits: { defaults: { maxSteps: 8 }, max: { maxSteps: 20, maxCostUsd: 2 } },
  relay: { segmentMaxTurns: 6, summaryInstruction: null },
  outputRetries: 3,
});
