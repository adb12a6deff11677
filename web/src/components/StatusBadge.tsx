import { STATUS_ICON, STATUS_LABEL } from '../format';
import { isThrottled, type WaitingFor } from '../../../contract/run';
import type { RunStatus } from '../types';

/** A run's status; a running run whose next model call waits for the shared rate limits shows as throttled. */
export function StatusBadge({ status, waitingFor = null }: { status: RunStatus; waitingFor?: WaitingFor | null }) {
  if (isThrottled({ status, waitingFor })) {
    return (
      <span className="status status-throttled" data-status={status} data-throttled="true">
        <span aria-hidden="true">⏳</span> Throttled
      </span>
    );
  }
  return (
    <span className={`status status-${status}`} data-status={status}>
      <span aria-hidden="true">{STATUS_ICON[status]}</span> {STATUS_LABEL[status]}
    </span>
  );
}
