/** Shapes the UI reads from the API (docs/api.md); the run-level ones come from the server's own types. */
import type { PendingApproval, PendingInput, Progress, RunError, RunEvent, RunStatus, Usage } from '../../workflows/types';

export type { PendingApproval, PendingInput, RunError, RunEvent, RunStatus, Usage };

export interface RunView extends Progress {
  id: string;
  goal: string;
  owner: string;
  approvals: 'none' | 'write' | 'all';
  result: string | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  worker: 'available' | 'unavailable' | null;
  stalledSince: string | null;
}

export interface RunSummary {
  id: string;
  goal: string;
  model: string;
  status: RunStatus;
  statusDetail: string | null;
  usage: Usage;
  error: RunError | null;
  lastSeq: number;
  createdAt: string;
  updatedAt: string;
}

export type ServerMessage =
  | { type: 'snapshot'; runId: string; progress: RunView }
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'delta'; runId: string; turn: number; offset: number; text: string }
  | { type: 'delta.reset'; runId: string; turn: number }
  | { type: 'error'; code: string; message: string; runId?: string };

export const TERMINAL: RunStatus[] = ['completed', 'failed', 'cancelled'];
