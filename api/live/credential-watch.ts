/**
 * A live stream outlives the request that opened it: the socket, the event stream and the runs feed of one caller
 * must end once the credential they were opened with no longer works — an API key revoked (on any replica) or
 * expired, a browser session signed out (here or everywhere), revoked or past its idle or absolute expiry, a
 * provider's JWT past its `exp` (directly, or through a ticket it asked for) — and must
 * follow the caller's roles as they are now, not as they were at the handshake. Both are asked of the database on
 * the stream's own keep-alive beat, here and only here, so a revocation or a role taken away reaches an open stream
 * within one beat. A socket ticket's credential is asked the same here when the ticket is redeemed
 * (ticket-redemption.ts): it may have ended in the ticket's lifetime, before any beat.
 */
import { sameRoles } from '../identity/provider-claims';
import type { ApiErrorCode } from '../../contract/errors';
import type { Principal } from '../../contract/identity';
import type { Store } from '../../shared/store';
import { keyEnded } from '../../shared/store/api-keys';

/** Why a stream's credential no longer works. */
export type CredentialEnd = 'key_revoked' | 'key_expired' | 'session_ended' | 'session_expired' | 'token_expired';

/** The reason a socket closed with CLOSE_CREDENTIAL_ENDED gives (a close frame's reason: short, never a secret). */
export const CREDENTIAL_END_REASONS: Record<CredentialEnd, string> = {
  key_revoked: 'the API key this socket was opened with was revoked',
  key_expired: 'the API key this socket was opened with has expired',
  session_ended: 'the session this socket was opened with was signed out or revoked',
  session_expired: 'the session this socket was opened with has expired',
  token_expired: 'the token this socket was opened with has expired',
};

/**
 * The refusal of an event stream asked for with a ticket whose credential has ended: the code a bearer of that
 * credential gets (api-key-check.ts, sessions.ts, jwt-check.ts), so a client acts on it alike.
 */
export const CREDENTIAL_END_REFUSALS: Record<CredentialEnd, { code: ApiErrorCode; message: string }> = {
  key_revoked: { code: 'key_revoked', message: 'the API key this ticket was issued to was revoked' },
  key_expired: { code: 'key_expired', message: 'the API key this ticket was issued to has expired' },
  session_ended: { code: 'unauthorized', message: 'the session this ticket was issued to was signed out or revoked; sign in again' },
  session_expired: { code: 'session_expired', message: 'the session this ticket was issued to has expired; sign in again' },
  token_expired: { code: 'token_expired', message: 'the token this ticket was issued to has expired' },
};

/** What a beat found: the credential ended, or the caller as they are now (`changed` when their roles moved). */
export type Recheck = { ended: CredentialEnd } | { caller: Principal; changed: boolean };

export class CredentialWatch {
  private readonly now: () => Date;

  constructor(private readonly deps: { store: Pick<Store, 'apiKeys' | 'sessions' | 'teamMembers'>; sessionIdleSec: number; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Whether the stream's credential still works and, if it does, its caller with their roles as stored now. A JWT's
   * roles are its claim, fixed for the token's life, so they are kept; every other credential acts with its user's
   * stored roles (contract/identity.ts), re-read here. Scopes never change: they are the credential's own.
   */
  async recheck(caller: Principal): Promise<Recheck> {
    const ended = await this.ended(caller);
    if (ended) return { ended };
    if (caller.method === 'jwt') return { caller, changed: false };
    const roles = await this.deps.store.teamMembers.rolesOf(caller.user);
    if (sameRoles(roles, caller.roles)) return { caller, changed: false };
    return { caller: { ...caller, roles }, changed: true };
  }

  /** Why the caller's credential no longer works, or undefined while it does (its roles are not asked). */
  async ended(caller: Principal): Promise<CredentialEnd | undefined> {
    if (caller.expiresAt !== undefined && Date.parse(caller.expiresAt) <= this.now().getTime()) return 'token_expired';
    if (caller.method === 'key' && caller.keyId !== undefined) {
      const ended = keyEnded(await this.deps.store.apiKeys.get(caller.keyId), this.now().getTime());
      if (ended) return ended;
    }
    if (caller.method === 'session' && caller.sessionId !== undefined) {
      const found = await this.deps.store.sessions.state(caller.sessionId, this.deps.sessionIdleSec);
      if ('ended' in found) return found.ended === 'expired' ? 'session_expired' : 'session_ended';
    }
    return undefined;
  }
}
