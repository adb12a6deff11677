/** A worker process serving a definition of two agents (test/integration/agents-served.test.ts). */
import { z } from 'zod';
import { defineAgent, defineWorker } from '../../activities/agents/define';
import { defineTool } from '../../activities/tools/tool';
import { redactText } from '../../shared/redact';
import { runWorkerProcess } from '../../worker/run-worker-process';

const lookup = defineTool({
  name: 'lookup_invoice',
  description: 'Looks an invoice up.',
  input: z.object({ invoiceId: z.string() }),
  risk: 'read',
  run: async ({ invoiceId }) => ({ invoiceId, amountCents: 4200 }),
});

export const agentsWorker = defineWorker({
  agents: [
    defineAgent({ name: 'alpha', description: 'The first agent.', instructions: 'Answer briefly.', model: 'demo' }),
    defineAgent({
      name: 'beta',
      description: 'The second agent.',
      instructions: () => 'Check the invoice.',
      model: 'demo',
      tools: ['workspace_read', 'lookup_invoice'],
      input: z.object({ invoiceId: z.string() }),
      output: z.object({ approved: z.boolean() }),
    }),
  ],
  tools: [lookup],
});

if (require.main === module) {
  runWorkerProcess({ definition: agentsWorker }).then(
    () => process.exit(0),
    (err) => {
      // Not through the logger: still never a URL's credentials or a configured secret.
      console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
      process.exit(1);
    },
  );
}
