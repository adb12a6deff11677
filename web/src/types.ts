/** Shapes the UI reads from the API: the contract's own types (contract/). */
import type { LiveMessage, RunCreated, RunSummary, RunView } from '../../contract/api';
import type { PendingApproval, PendingInput, RunError, RunStatus, Usage } from '../../contract/run';
import type { RunEvent } from '../../contract/events';

export type { PendingApproval, PendingInput, RunCreated, RunError, RunEvent, RunStatus, RunSummary, RunView, Usage };
export type ServerMessage = LiveMessage;
