/**
 * A run's first workflow start, made in one place for whoever owes it: the API that committed the run (at the
 * request, and at a steering request that finds the start still owed) and the sweeper (for an API that died or gave
 * up). Any number of them may try at once: Temporal takes one workflow with the run's id, ever (REJECT_DUPLICATE, so
 * a late start never begins a run again after it ended), and every other try learns that it is there.
 */
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
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
 * Why Temporal refused the run's start for good, when it did, and has no workflow with its id: the start itself is
 * over one of the server's limits on what a start carries (INVALID_ARGUMENT, "… exceeds … limit": the input's size, a
 * search attribute's value — the owner's name — over 2 KB), which no later try can change. Undefined for anything
 * else, which may pass and is tried again: unreachable, busy, a deadline, and an INVALID_ARGUMENT of the deployment's
 * (a search attribute the namespace lacks) that would fail every run until an operator mends it. Temporal is asked
 * for the workflow because a start it validates first is refused even when an earlier try already started it.
 */
export async function refusedForGood(client: Client, runId: string, err: unknown): Promise<string | undefined> {
  const refusal = limitRefusalOf(err);
  if (refusal === undefined) return undefined;
  try {
    await client.workflow.getHandle(runId).describe();
    return undefined;
  } catch (describeErr) {
    return describeErr instanceof WorkflowNotFoundError ? refusal : undefined;
  }
}

function limitRefusalOf(err: unknown): string | undefined {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if (!isGrpcServiceError(cause)) continue;
    return cause.code === GRPC_INVALID_ARGUMENT && OVER_A_LIMIT.test(cause.details) ? `Temporal refused to start the run: ${cause.details}` : undefined;
  }
  return undefined;
}

/** gRPC's status code INVALID_ARGUMENT (its own package is the Temporal client's, not ours). */
const GRPC_INVALID_ARGUMENT = 3;
/** How Temporal words a start over one of its limits ("Blob data size exceeds limit.", "… value size 2102 exceeds size limit 2048"). */
const OVER_A_LIMIT = /\bexceeds\b.*\blimit\b/i;
