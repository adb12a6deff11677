/**
 * The inbox's page cursor: the key (requested_at, kind, id) of the last item of the previous page, so a page goes on
 * after it whatever arrived or was decided meanwhile (no item twice, none skipped). Opaque to clients, like the runs
 * list's; it names only an item the caller was shown, and the next page is filtered by access as any page is.
 */
import type { InboxKey } from '../shared/store/run-scope';
import { ApiError } from './errors';

export function encodeInboxCursor(key: InboxKey): string {
  return Buffer.from(JSON.stringify([key.requestedAt, key.kind, key.id])).toString('base64url');
}

export function decodeInboxCursor(cursor: string): InboxKey {
  try {
    const [requestedAt, kind, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof requestedAt === 'string' && typeof id === 'string' && (kind === 'approval' || kind === 'question') && requestedAt.length <= 64 && id.length <= 200) {
      return { requestedAt, kind, id };
    }
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_query', 'cursor is malformed');
}
