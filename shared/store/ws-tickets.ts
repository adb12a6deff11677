/** Single-use socket tickets (see migration 004). Only a hash of each ticket is stored. */
import crypto from 'node:crypto';
import { nowIso, type Executor } from './executor';

const hash = (ticket: string) => crypto.createHash('sha256').update(ticket).digest('hex');

export class WsTicketsRepo {
  constructor(private readonly db: Executor) {}

  async issue(user: string, ttlSec: number): Promise<{ ticket: string; expiresAt: string }> {
    const ticket = crypto.randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + ttlSec * 1000).toISOString();
    await this.db.insertInto('ws_tickets').values({ id: hash(ticket), user, expires_at: expiresAt, used_at: null }).execute();
    // Keep the table small: drop long-expired tickets as new ones are issued.
    await this.db.deleteFrom('ws_tickets').where('expires_at', '<', new Date(Date.now() - 3600_000).toISOString()).execute();
    return { ticket, expiresAt };
  }

  /** The ticket's user if it is valid, unexpired and unused; it cannot be used again. */
  async redeem(ticket: string): Promise<string | undefined> {
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
    const row = await this.db.selectFrom('ws_tickets').select('user').where('id', '=', id).executeTakeFirst();
    return row?.user;
  }
}
