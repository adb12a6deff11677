/** Shapes the UI reads from the API: the server's own contract types (api/contract.ts). */
import type { LiveMessage, RunSummary, RunView } from '../../api/contract';
import type { PendingApproval, PendingInput, RunError, RunEvent, RunStatus, Usage } from '../../workflows/types';

export type { PendingApproval, PendingInput, RunError, RunEvent, RunStatus, RunSummary, RunView, Usage };
export type ServerMessage = LiveMessage;

export const TERMINAL: RunStatus[] = ['completed', 'failed', 'cancelled'];
