/**
 * The workflow input for a run: its own choices, and the deployment's execution settings frozen in
 * when the run (or its continuation) starts. One builder for the API and for scheduled firings.
 */
import type { AgentData } from '../../contract/agents';
import { subagentBoundsOf, type RunInput } from '../../contract/run';
import type { Config } from '../config';
import type { RunRecord } from '../store/runs';

/**
 * `agent`: the data of the version the run is pinned to (runs that name an agent): its turns per segment
 * replace the server's, an output schema brings its output retries, and its own bound on children at once
 * (within the server's) replaces the server's.
 */
export function runInputFor(
  config: Config,
  run: Pick<RunRecord, 'id' | 'owner' | 'model' | 'approvals' | 'limits'> & Partial<Pick<RunRecord, 'parentRunId' | 'depth'>>,
  approvalTimeoutSec: number,
  agent?: AgentData,
): RunInput {
  return {
    runId: run.id,
    // A child run keeps riding on its root's slot however it is (re)started, a follow-up's continuation included.
    ...(run.parentRunId && { parentRunId: run.parentRunId, depth: run.depth ?? 1 }),
    owner: run.owner,
    model: run.model,
    approvals: run.approvals,
    approvalTimeoutSec,
    limits: run.limits,
    settings: {
      heartbeatTimeoutSec: config.activities.heartbeatTimeoutSec,
      modelCallTimeoutSec: config.activities.modelCallTimeoutSec,
      toolCallTimeoutSec: config.activities.toolCallTimeoutSec,
      maxAttempts: config.activities.maxAttempts,
      segmentMaxTurns: agent?.relay.segmentMaxTurns ?? config.runs.segmentMaxTurns,
      maxSegments: config.runs.maxSegments,
      loopDetectionThreshold: config.runs.loopDetectionThreshold,
      costCheckpointUsd: config.approvals.costCheckpointUsd,
      maxConcurrentPerUser: config.runs.maxConcurrentPerUser,
      progressStampSec: Math.max(1, Math.min(60, Math.floor(config.runs.stallThresholdSec / 3))),
      ...(agent?.outputSchema && { outputRetries: agent.outputRetries }),
      maxParallelChildren: subagentBoundsOf(config.subagents, agent?.subagentBounds).maxParallelChildren,
    },
  };
}
