/** Single-use socket tickets (see migrations 004, 020 and 021). Only a hash of each ticket is stored. */
import crypto from 'node:crypto';
import type { Scope } from '../../contract/identity';
import { nowIso, parseJson, type Executor } from './executor';

const hash = (ticket: string) => crypto.createHash('sha256').update(ticket).digest('hex');

/** Who a ticket was issued to: the user, the API key and its scopes when a key asked for it, the session when one did. */
export interface TicketHolder {
  user: string;
  keyId?: string;
  /** The browser session that asked (its row id): the socket it opens ends with the session. */
  sessionId?: string;
  /** When the credential that asked stops working by itself (a JWT's `exp`): the socket it opens ends then. */
  expiresAt?: string;
  scopes: readonly Scope[] | 'all';
}

export class WsTicketsRepo {
  constructor(private readonly db: Executor) {}

  async issue(holder: TicketHolder, ttlSec: number): Promise<{ ticket: string; expiresAt: string }> {
    const ticket = crypto.randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + ttlSec * 1000).toISOString();
    await this.db
      .insertInto('ws_tickets')
      .values({ id: hash(ticket), user: holder.user, expires_at: expiresAt, used_at: null, key_id: holder.keyId ?? null, session_id: holder.sessionId ?? null, credential_expires_at: holder.expiresAt ?? null, scopes_json: holder.scopes === 'all' ? null : JSON.stringify(holder.scopes) })
      .execute();
    // Keep the table small: drop long-expired tickets as new ones are issued.
    await this.db.deleteFrom('ws_tickets').where('expires_at', '<', new Date(Date.now() - 3600_000).toISOString()).execute();
    return { ticket, expiresAt };
  }

  /** Who the ticket was issued to, if it is valid, unexpired and unused; it cannot be used again. */
  async redeem(ticket: string): Promise<TicketHolder | undefined> {
    const id = hash(ticket);
    const now = nowIso();
    const used = await this.db
      .updateTable('ws_tickets')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return undefined;
    const row = await this.db.selectFrom('ws_tickets').select(['user', 'key_id', 'session_id', 'credential_expires_at', 'scopes_json']).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return { user: row.user, ...(row.key_id !== null && { keyId: row.key_id }), ...(row.session_id !== null && { sessionId: row.session_id }),
      ...(row.credential_expires_at !== null && { expiresAt: row.credential_expires_at }),
      scopes: parseJson<Scope[] | null>(row.scopes_json, null) ?? 'all' };
  }
}
