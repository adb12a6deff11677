import { useEffect, useState } from 'react';
import { live, type ConnectionState } from '../live';

const TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  unauthorized: 'Signed out',
};

export function ConnectionIndicator() {
  const [state, setState] = useState<ConnectionState>(live.connectionState);
  useEffect(() => live.onState(setState), []);
  return (
    <span className={`connection connection-${state}`} role="status" aria-live="polite" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {TEXT[state]}
      {state === 'offline' && (
        <button type="button" className="link-button" onClick={() => live.reconnectNow()}>
          Retry
        </button>
      )}
    </span>
  );
}
