/**
 * A worker process serving a lead agent and the researcher it delegates to, or (SUBAGENTS_WORKER_AGENTS=researcher)
 * the researcher alone: test/integration/subagents-processes.test.ts runs a parent and its children on different
 * processes. The researcher's definition is the same in both, so both serve the same version of it.
 */
import { defineAgent, defineWorker } from '../../activities/agents/define';
import { redactText } from '../../shared/redact';
import { runWorkerProcess } from '../../worker/run-worker-process';

/** Records a fact with the outside world (an effect, under its idempotency key), then answers with it. */
export const researcher = defineAgent({ name: 'researcher', description: 'Finds a fact and records it.', instructions: 'You are the researcher.', tools: ['http_request'], approvals: 'none' });
export const lead = defineAgent({ name: 'lead', description: 'Leads the work.', instructions: 'You are the lead.', approvals: 'none', subagents: ['researcher'] });

const only = process.env.SUBAGENTS_WORKER_AGENTS?.split(',').map((s) => s.trim());
export const subagentsWorker = defineWorker({ agents: [lead, researcher].filter((a) => !only || only.includes(a.name)) });

if (require.main === module) {
  runWorkerProcess({ definition: subagentsWorker }).then(
    () => process.exit(0),
    (err) => {
      // Not through the logger: still never a URL's credentials or a configured secret.
      console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
      process.exit(1);
    },
  );
}
