/**
 * Browser sessions and sign-ins under way (migration 017). A session is found by a hash of its cookie's secret, so
 * the database never holds anything that signs a browser in; it ends when revoked, when unused for the idle time, or
 * at its absolute expiry, whichever comes first.
 */
import crypto from 'node:crypto';
import { nowIso, type Executor } from './executor';

const hash = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

/**
 * A session's last use is written at most this often (and at least four times per idle period, so a session in use
 * never goes idle between writes): a busy page must not write on every request.
 */
const SEEN_WRITE_INTERVAL_MS = 60_000;

export interface SessionRecord {
  /** The row's id: a hash of the cookie's secret, which names the session without signing anyone in. */
  id: string;
  user: string;
  createdAt: string;
  seenAt: string;
  expiresAt: string;
}

export type SessionLookup = { session: SessionRecord } | { ended: 'unknown' | 'revoked' | 'expired' };

export interface PendingSignIn {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

export class SessionsRepo {
  constructor(private readonly db: Executor) {}

  /** A new session for the user: its secret (for the cookie, never stored) and when it ends at the latest. */
  async create(user: string, maxSec: number): Promise<{ secret: string; expiresAt: string }> {
    const secret = crypto.randomBytes(32).toString('base64url');
    const now = nowIso();
    const expiresAt = new Date(Date.now() + maxSec * 1000).toISOString();
    await this.db.insertInto('sessions').values({ id: hash(secret), user_id: user, created_at: now, seen_at: now, expires_at: expiresAt, revoked_at: null }).execute();
    // Keep the table small: sessions long past their end go as new ones begin.
    await this.db.deleteFrom('sessions').where('expires_at', '<', new Date(Date.now() - 86_400_000).toISOString()).execute();
    return { secret, expiresAt };
  }

  /** The live session of a cookie's secret (its use noted), or why there is none. */
  async use(secret: string, idleSec: number): Promise<SessionLookup> {
    const id = hash(secret);
    const found = await this.state(id, idleSec);
    if ('ended' in found) return found;
    const now = Date.now();
    let seenAt = found.session.seenAt;
    if (Date.parse(seenAt) + Math.min(SEEN_WRITE_INTERVAL_MS, idleSec * 250) <= now) {
      seenAt = new Date(now).toISOString();
      await this.db.updateTable('sessions').set({ seen_at: seenAt }).where('id', '=', id).execute();
    }
    return { session: { ...found.session, seenAt } };
  }

  /**
   * The session of a row id, or why it has ended, without noting a use: how a live stream opened from a session
   * asks, on its keep-alive beat, whether the session still holds (a stream is no use of it, so it does not keep an
   * idle session alive).
   */
  async state(id: string, idleSec: number): Promise<SessionLookup> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return { ended: 'unknown' };
    if (row.revoked_at) return { ended: 'revoked' };
    const now = Date.now();
    if (Date.parse(row.expires_at) <= now || Date.parse(row.seen_at) + idleSec * 1000 <= now) return { ended: 'expired' };
    return { session: { id, user: row.user_id, createdAt: row.created_at, seenAt: row.seen_at, expiresAt: row.expires_at } };
  }

  /** Ends one session (sign-out). Returns whether it was live. */
  async revoke(secret: string): Promise<boolean> {
    const r = await this.db.updateTable('sessions').set({ revoked_at: nowIso() }).where('id', '=', hash(secret)).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Ends every session of a user (an admin's word, a person who left). Returns how many were live. */
  async revokeAllOf(user: string): Promise<number> {
    const r = await this.db.updateTable('sessions').set({ revoked_at: nowIso() }).where('user_id', '=', user).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Remembers a sign-in under way, by its `state`, for the callback. */
  async beginSignIn(state: string, pending: PendingSignIn, ttlSec: number): Promise<void> {
    const expiresAt = new Date(Date.now() + ttlSec * 1000).toISOString();
    await this.db
      .insertInto('sign_ins')
      .values({ id: hash(state), code_verifier: pending.codeVerifier, nonce: pending.nonce, return_to: pending.returnTo, expires_at: expiresAt })
      .execute();
    await this.db.deleteFrom('sign_ins').where('expires_at', '<', nowIso()).execute();
  }

  /** The sign-in a callback's `state` names, once: it is gone after this, used or not. Undefined when unknown or expired. */
  async finishSignIn(state: string): Promise<PendingSignIn | undefined> {
    const id = hash(state);
    const row = await this.db.selectFrom('sign_ins').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const deleted = await this.db.deleteFrom('sign_ins').where('id', '=', id).executeTakeFirst();
    // Two callbacks racing with one state: only the one that deleted the row goes on.
    if (Number(deleted.numDeletedRows) !== 1 || Date.parse(row.expires_at) <= Date.now()) return undefined;
    return { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to };
  }
}
