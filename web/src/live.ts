/**
 * One WebSocket for the whole page, shared by every view that follows a run: the client's
 * LiveSocket (tickets, reconnect with backoff, resubscribe from the last seq: no gap, no duplicate).
 * When the credential it was opened with ends (closed 4401: signed out elsewhere, the session expired, the token
 * revoked), it stops and the page shows the sign-in page, as it does for a 401 from the API; signed in again, it
 * connects again.
 */
import { client } from './api';
import { mustSignIn, onAuthChange, signInRequired } from './auth';

export type { ConnectionState } from '../../client';

export const live = client.live();
addEventListener('online', () => live.reconnectNow());
live.onError(() => signInRequired());
onAuthChange(() => {
  if (live.connectionState === 'unauthorized' && !mustSignIn()) live.reconnectNow();
});
