/**
 * The workflow input for a run: its own choices, and the deployment's execution settings frozen in
 * when the run (or its continuation) starts. One builder for the API and for scheduled firings.
 */
import type { RunInput } from '../../contract/run';
import type { Config } from '../config';
import type { RunRecord } from '../store/runs';

export function runInputFor(config: Config, run: Pick<RunRecord, 'id' | 'owner' | 'model' | 'approvals' | 'limits'>, approvalTimeoutSec: number): RunInput {
  return {
    runId: run.id,
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
      segmentMaxTurns: config.runs.segmentMaxTurns,
      maxSegments: config.runs.maxSegments,
      loopDetectionThreshold: config.runs.loopDetectionThreshold,
      costCheckpointUsd: config.approvals.costCheckpointUsd,
      maxConcurrentPerUser: config.runs.maxConcurrentPerUser,
      progressStampSec: Math.max(1, Math.min(60, Math.floor(config.runs.stallThresholdSec / 3))),
    },
  };
}
