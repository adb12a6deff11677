/**
 * Redeeming a single-use socket ticket (`?ticket=` from POST /api/ws-ticket, on /ws and on an event stream). A ticket
 * acts as the credential that asked for it — the API key, the browser session, the JWT until its `exp` — and that
 * credential may have ended in the ticket's lifetime (WS_TICKET_TTL_SEC): it is asked here exactly as each keep-alive
 * beat asks it (CredentialWatch), so no stream is opened, and no snapshot or history sent, for a credential that no
 * longer works. The socket is then closed as a beat closes it (4401); the event stream is refused as a bearer of that
 * credential would be (401 with the credential's code).
 */
import type { RequestHandler } from 'express';
import type { Principal } from '../../contract/identity';
import type { Store } from '../../shared/store';
import { bearerToken, requireUser, type Authenticator } from '../auth';
import { ApiError } from '../errors';
import { CREDENTIAL_END_REFUSALS, type CredentialEnd, type CredentialWatch } from './credential-watch';

/** A redeemed ticket: who it acts as, or why the credential behind it has ended; undefined for an unknown, used or expired ticket. */
export type Redemption = { caller: Principal } | { ended: CredentialEnd } | undefined;

export interface TicketRedemptionDeps {
  store: Pick<Store, 'wsTickets'>;
  auth: Pick<Authenticator, 'ticketPrincipal'>;
  credentials: Pick<CredentialWatch, 'ended'>;
}

export async function redeemTicket(deps: TicketRedemptionDeps, ticket: string): Promise<Redemption> {
  const holder = await deps.store.wsTickets.redeem(ticket);
  if (!holder) return undefined;
  const caller = await deps.auth.ticketPrincipal(holder);
  const ended = await deps.credentials.ended(caller);
  return ended ? { ended } : { caller };
}

/**
 * For the few endpoints a browser cannot send headers to (EventSource): a bearer token as usual,
 * or a single-use ticket from POST /api/ws-ticket in `?ticket=`.
 */
export function userFromTicketOrToken(deps: TicketRedemptionDeps & { auth: Authenticator }): RequestHandler {
  const bearer = requireUser(deps.auth);
  return (req, res, next) => {
    const ticket = typeof req.query.ticket === 'string' ? req.query.ticket : undefined;
    if (!ticket || bearerToken(req.headers.authorization)) return bearer(req, res, next);
    redeemTicket(deps, ticket)
      .then((redeemed) => {
        if (!redeemed) return next(new ApiError(401, 'unauthorized', 'ticket is unknown, used or expired'));
        if ('ended' in redeemed) {
          const refusal = CREDENTIAL_END_REFUSALS[redeemed.ended];
          return next(new ApiError(401, refusal.code, refusal.message));
        }
        req.principal = redeemed.caller;
        req.user = redeemed.caller.user;
        next();
      })
      .catch((err: unknown) => next(err));
  };
}
