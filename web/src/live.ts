/**
 * One WebSocket for the whole page, shared by every view that follows a run: the client's
 * LiveSocket (tickets, reconnect with backoff, resubscribe from the last seq: no gap, no duplicate).
 */
import { client } from './api';

export type { ConnectionState } from '../../client';

export const live = client.live();
addEventListener('online', () => live.reconnectNow());
