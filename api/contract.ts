/**
 * The shapes the HTTP API and the live protocol send (docs/api.md), written once for the server and
 * the web UI. Types only.
 */
import type { ApprovalPolicy, Progress, RunError, RunEvent, RunStatus, Usage } from '../workflows/types';

export type WorkerState = 'available' | 'unavailable';

/** GET /api/runs/:id, and the progress of a live `snapshot`. */
export interface RunView extends Progress {
  id: string;
  goal: string;
  owner: string;
  approvals: ApprovalPolicy;
  result: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  /** Whether a worker answered for this run just now; null once the run has ended. */
  worker: WorkerState | null;
  /** Set when the sweeper found the run running without progress: its last progress time. */
  stalledSince: string | null;
}

/** One row of GET /api/runs. */
export interface RunSummary {
  id: string;
  goal: string;
  model: string;
  status: RunStatus;
  statusDetail: string | null;
  usage: Usage;
  error: RunError | null;
  /** The run's last event seq: subscribe with it as `after` to follow the run from now on. */
  lastSeq: number;
  createdAt: string;
  updatedAt: string;
}

/** Messages a live connection (WebSocket or SSE) delivers. */
export type LiveMessage =
  | { type: 'snapshot'; runId: string; progress: RunView }
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'delta'; runId: string; turn: number; offset: number; text: string }
  | { type: 'delta.reset'; runId: string; turn: number }
  | { type: 'error'; code: string; message: string; runId?: string };
