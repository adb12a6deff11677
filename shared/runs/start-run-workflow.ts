/**
 * A run's first workflow start, made in one place for whoever owes it: the API that committed the run (at the
 * request, and at a steering request that finds the start still owed) and the sweeper (for an API that died or gave
 * up). Any number of them may try at once: Temporal takes one workflow with the run's id, ever (REJECT_DUPLICATE, so
 * a late start never begins a run again after it ended), and every other try learns that it is there.
 */
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { agentTaskQueue, type AgentData } from '../../contract/agents';
import { OwnerAttribute, StatusAttribute } from '../../contract/search-attributes';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import type { Config } from '../config';
import type { Store } from '../store';
import type { RunRecord } from '../store/runs';
import { runInputFor } from './run-input';

/** `started`: this try started it; `already`: another try (or an earlier attempt of this one) had. */
export type RunStartOutcome = 'started' | 'already';

/**
 * Starts the run's workflow, waiting for Temporal until `deadline` (epoch ms); throws what Temporal answered
 * otherwise. `agent`: the data of the version the run is pinned to, when the caller has it (read from the store if not).
 */
export async function startRunWorkflow(
  deps: { client: Client; config: Config; store: Store },
  run: RunRecord,
  deadline: number,
  agent?: AgentData,
): Promise<RunStartOutcome> {
  const { client, config, store } = deps;
  const agentData = agent ?? (run.agent && run.agentVersion ? (await store.agents.version(run.agent, run.agentVersion))?.data : undefined);
  const input = runInputFor(config, run, run.approvalTimeoutSec ?? config.approvals.timeoutSec, agentData);
  try {
    await client.withDeadline(deadline, () =>
      client.workflow.start(RUN_WORKFLOW, {
        workflowId: run.id,
        // Only workers that serve the run's agent poll its queue; with none live the run waits queued.
        taskQueue: agentTaskQueue(config.temporal.taskQueue, run.agent),
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: StatusAttribute, value: 'queued' },
          { key: OwnerAttribute, value: run.owner },
        ],
        staticSummary: `Agent run for ${run.owner}${run.agent ? ` (agent ${run.agent})` : ''}: ${run.goal.slice(0, 120)}`,
      }),
    );
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already';
    throw err;
  }
}

/**
 * Why Temporal refused the start for good, when it did: it found the start itself invalid (INVALID_ARGUMENT: the
 * run's input over the server's size limit, say), which no later try can change. Undefined for anything else
 * (unreachable, busy, a deadline), which may pass and is tried again.
 */
export function refusalOf(err: unknown): string | undefined {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if (isGrpcServiceError(cause)) return cause.code === GRPC_INVALID_ARGUMENT ? `Temporal refused to start the run: ${cause.details}` : undefined;
  }
  return undefined;
}

/** gRPC's status code INVALID_ARGUMENT (its own package is the Temporal client's, not ours). */
const GRPC_INVALID_ARGUMENT = 3;
