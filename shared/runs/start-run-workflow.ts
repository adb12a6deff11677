/**
 * A run's owed workflow starts, made in one place for whoever owes them: the API that committed the run or a
 * follow-up's continuation of it (at the request, and at a steering request that finds the start still owed) and the
 * sweeper (for an API that died or gave up). Any number of them may try at once, and each start is made once:
 * - the run's first start: Temporal takes one workflow with the run's id, ever (REJECT_DUPLICATE, so a late start
 *   never begins a run again after it ended), and every other try learns that it is there;
 * - a continuation (lap 1 and up) reuses the run's workflow id after its last execution closed (ALLOW_DUPLICATE), so
 *   Temporal alone would take a late try as one more execution of the lap. It is made once: a try that finds the
 *   latest execution at this lap or later (its memo's `lap`) makes nothing, and every try of one lap sends the same
 *   request id, which Temporal answers with the execution it already started for it (running or closed) rather than
 *   starting another.
 */
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
// The start's request id is public in Temporal's API, but the TypeScript client takes it only through this option.
import { InternalWorkflowStartOptionsSymbol, type InternalWorkflowStartOptions } from '@temporalio/client/lib/internal';
import { agentTaskQueue, type AgentData } from '../../contract/agents';
import type { RunInput } from '../../contract/run';
import { OwnerAttribute, StatusAttribute } from '../../contract/search-attributes';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import type { Config } from '../config';
import type { Store } from '../store';
import type { RunRecord } from '../store/runs';
import { runInputFor } from './run-input';

/**
 * `started`: this try started it; `already`: another try (or an earlier attempt of this one) had, or the start is
 * owed no more; `closing`: a continuation's, the execution of the lap before still runs (its last bookkeeping after
 * the ending): try again in a moment.
 */
export type RunStartOutcome = 'started' | 'already' | 'closing';

type StartDeps = { client: Client; config: Config; store: Store };

/**
 * Makes the run's owed start (`run.owedStartLap`: the first, or a continuation's), waiting for Temporal until
 * `deadline` (epoch ms); throws what Temporal answered otherwise. `agent`: the data of the version the run is pinned
 * to, when the caller has it (read from the store if not).
 */
export async function startRunWorkflow(deps: StartDeps, run: RunRecord, deadline: number, agent?: AgentData): Promise<RunStartOutcome> {
  const agentData = agent ?? (run.agent && run.agentVersion ? (await deps.store.agents.version(run.agent, run.agentVersion))?.data : undefined);
  const lap = run.owedStartLap ?? 0;
  return lap === 0 ? startFirst(deps, run, deadline, agentData) : startContinuation(deps, run, lap, deadline, agentData);
}

async function startFirst({ client, config }: StartDeps, run: RunRecord, deadline: number, agent: AgentData | undefined): Promise<RunStartOutcome> {
  const input = runInputFor(config, run, run.approvalTimeoutSec ?? config.approvals.timeoutSec, agent);
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

/** The request id of every try at `lap`'s execution of the run: Temporal starts one execution for it. */
export const continuationRequestId = (runId: string, lap: number): string => `${runId}:lap:${lap}`;

/** The new execution that continues an ended run in `lap`, from the run as its row holds it now. */
async function startContinuation(deps: StartDeps, owed: RunRecord, lap: number, deadline: number, agent: AgentData | undefined): Promise<RunStartOutcome> {
  const { client, config, store } = deps;
  // A try that read the row earlier (a sweep's page, a request's transaction) may come after the lap's start was made.
  const run = await store.runs.get(owed.id);
  if (!run || run.owedStartLap !== lap) return 'already';
  const latest = await latestExecution(client, run.id, deadline);
  if (latest && latest.lap >= lap) return 'already';
  if (latest?.running) return 'closing';
  const options: InternalWorkflowStartOptions & { args: [RunInput] } = {
    workflowId: run.id,
    // The run goes on where its agent is served, as it started.
    taskQueue: agentTaskQueue(config.temporal.taskQueue, run.agent),
    args: [await continuationInput(deps, run, lap, agent)],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { lap },
    typedSearchAttributes: [
      { key: StatusAttribute, value: 'queued' },
      { key: OwnerAttribute, value: run.owner },
    ],
    staticSummary: `Agent run for ${run.owner}, continued (lap ${lap}): ${run.goal.slice(0, 100)}`,
    [InternalWorkflowStartOptionsSymbol]: { requestId: continuationRequestId(run.id, lap) },
  };
  try {
    await client.withDeadline(deadline, () => client.workflow.start(RUN_WORKFLOW, options));
    return 'started';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // An execution runs: this lap's (another try's, since the look above), or still the lap before's.
    const now = await latestExecution(client, run.id, deadline);
    return now && now.lap >= lap ? 'already' : 'closing';
  }
}

/** The run's latest execution (running or closed): its lap (a continuation's memo; the first has none: 0). */
async function latestExecution(client: Client, runId: string, deadline: number): Promise<{ lap: number; running: boolean } | undefined> {
  try {
    const description = await client.withDeadline(deadline, () => client.workflow.getHandle(runId).describe());
    return { lap: Number(description.memo?.lap ?? 0), running: description.status.name === 'RUNNING' };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * A continuation's input: the run's own, with the deployment's current settings, carrying on from where its last
 * execution left it — the next turn and segment, its usage and cost checkpoints — in `lap`.
 */
async function continuationInput({ config, store }: StartDeps, run: RunRecord, lap: number, agent: AgentData | undefined): Promise<RunInput> {
  const input = runInputFor(config, run, run.approvalTimeoutSec ?? config.approvals.timeoutSec, agent);
  const nextTurn = ((await store.messages.latest(run.id, 'assistant'))?.turn ?? 0) + 1;
  const costCheckpointsPassed = config.approvals.costCheckpointUsd > 0 ? Math.floor(run.usage.costUsd / config.approvals.costCheckpointUsd + 1e-9) : 0;
  const segment = (run.progress?.segment ?? 0) + 1;
  input.carried = { segment, turn: nextTurn, usage: run.usage, costCheckpointsPassed, startedAtMs: 0, paused: false, recentToolCalls: [], extraSegments: 0, lap, continued: true };
  return input;
}

/**
 * Why Temporal refused the run's owed start for good, when it did, and has no execution of its lap: the start itself
 * is over one of the server's limits on what a start carries (INVALID_ARGUMENT, "… exceeds … limit": the input's
 * size, a search attribute's value — the owner's name — over 2 KB), which no later try can change. Undefined for
 * anything else, which may pass and is tried again: unreachable, busy, a deadline, and an INVALID_ARGUMENT of the
 * deployment's (a search attribute the namespace lacks) that would fail every run until an operator mends it.
 * Temporal is asked for the run's latest execution because a start it validates first is refused even when an
 * earlier try already started it: the first start's, none with the run's id; a continuation's, none at its lap yet
 * (the executions of the laps before are there).
 */
export async function refusedForGood(client: Client, run: Pick<RunRecord, 'id' | 'owedStartLap'>, err: unknown): Promise<string | undefined> {
  const refusal = limitRefusalOf(err);
  if (refusal === undefined) return undefined;
  try {
    const latest = await client.workflow.getHandle(run.id).describe();
    const lap = run.owedStartLap ?? 0;
    return lap > 0 && Number(latest.memo?.lap ?? 0) < lap ? refusal : undefined;
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
