/**
 * WebSocket at /ws (ws, noServer). The upgrade is where everything is checked: path, Origin
 * (foreign pages are refused at the handshake), and who is asking — `Authorization: Bearer` for
 * programs, a single-use ticket (`?ticket=`, from POST /api/ws-ticket) for browsers; the long-lived
 * token never goes in a URL. Then per socket: subscribe/unsubscribe to runs the user may see,
 * ping/pong to drop dead peers, a small maxPayload, and a cap on unsent bytes — a socket that
 * falls behind is closed with 4008 and resumes from its last seq, never slowing anyone else.
 */
import { WS_CLOSE_CREDENTIAL_ENDED, type ApiErrorCode } from '../../contract/errors';
import { hostAllowed } from '../host-check';
import type { Presence } from './presence';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import type { Access } from '../access';
import type { Principal } from '../../contract/identity';
import { bearerToken, type Authenticator } from '../auth';
import { ApiError } from '../errors';
import type { RunService } from '../run-service';
import type { LiveHub } from './live-hub';
import type { RunsFeed } from './runs-feed';
import { originAllowed } from './origin';
import { Subscription, type LiveMessage } from './subscription';
import { CREDENTIAL_END_REASONS, type CredentialEnd, type CredentialWatch } from './credential-watch';
import { redeemTicket } from './ticket-redemption';

/** Close code telling the client to reconnect and resume with `after` = the last seq it has. */
export const CLOSE_RESUME = 4008;
/**
 * The credential the socket was opened with no longer works (an API key revoked or expired, a session signed out,
 * revoked or expired, a JWT expired): do not reconnect with it. The code is the contract's: clients branch on it.
 */
export const CLOSE_CREDENTIAL_ENDED = WS_CLOSE_CREDENTIAL_ENDED;
const MAX_PAYLOAD = 16 * 1024;
const MAX_SUBSCRIPTIONS = 100;

const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), runId: z.string().min(1).max(100), after: z.number().int().min(0).default(0) }).strict(),
  z.object({ type: z.literal('unsubscribe'), runId: z.string().min(1).max(100) }).strict(),
  z.object({ type: z.literal('watch-runs') }).strict(),
  z.object({ type: z.literal('unwatch-runs') }).strict(),
]);

export interface LiveStats {
  sockets: number;
  slowConsumerCloses: number;
}

function refuse(socket: Duplex, status: number, code: ApiErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.write(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.destroy();
}

export function attachWebSocketServer(
  server: http.Server,
  deps: { config: Config; store: Store; access: Access; auth: Authenticator; credentials: CredentialWatch; runs: RunService; hub: LiveHub; runsFeed: RunsFeed; presence: Presence; logger: Logger; stats: LiveStats },
): { close(): void } {
  const { config, store, access, auth, credentials, runs, hub, runsFeed, presence, logger, stats } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });

  /** The caller, or why the credential behind a ticket has ended (ticket-redemption.ts); undefined: nobody. */
  async function authenticate(req: http.IncomingMessage, url: URL): Promise<Principal | { ended: CredentialEnd } | undefined> {
    const ticket = url.searchParams.get('ticket');
    if (ticket && !bearerToken(req.headers.authorization)) {
      // A ticket acts as what asked for it: its user with their stored roles, as the API key (and its scopes) if a
      // key asked, as the session if a browser's session asked — so the socket ends with the key or the session.
      const redeemed = await redeemTicket({ store, auth, credentials }, ticket);
      return redeemed && ('ended' in redeemed ? redeemed : redeemed.caller);
    }
    return auth.identify(req);
  }

  server.on('upgrade', (req, socket, head) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') return refuse(socket, 404, 'not_found', 'no WebSocket endpoint here; use /ws');
      if (!hostAllowed(config, req.headers.host)) return refuse(socket, 403, 'host_not_allowed', 'without API_TOKENS this server answers only to loopback host names');
      if (!originAllowed(req, config.api.allowedOrigins, config.api.publicUrl)) {
        return refuse(socket, 403, 'origin_not_allowed', `origin ${req.headers.origin} may not open sockets here`);
      }
      let caller: Principal | { ended: CredentialEnd } | undefined;
      try {
        caller = await authenticate(req, url);
      } catch (err) {
        // A refused credential says why (an ended session, an expired token); the origin check above guards the cookie.
        if (err instanceof ApiError && err.status === 401) return refuse(socket, 401, err.code, err.message);
      }
      if (!caller) return refuse(socket, 401, 'unauthorized', 'send Authorization: Bearer <token>, a session cookie, or ?ticket= from POST /api/ws-ticket');
      if ('ended' in caller) {
        // A ticket whose credential ended before it was used: closed as a beat would have closed it, before any feed.
        const reason = CREDENTIAL_END_REASONS[caller.ended];
        return wss.handleUpgrade(req, socket, head, (ws) => ws.close(CLOSE_CREDENTIAL_ENDED, reason));
      }
      const principal = caller;
      wss.handleUpgrade(req, socket, head, (ws) => session(ws, principal));
    })().catch((err) => {
      logger.error({ err }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });

  function session(ws: WebSocket, opener: Principal): void {
    /** The caller as of the last keep-alive beat: roles changed since the handshake count from the next beat on. */
    let caller = opener;
    const user = caller.user;
    stats.sockets += 1;
    const subs = new Map<string, Subscription>();
    let unwatchRuns: (() => void) | undefined;
    let alive = true;
    let cutOff = false;

    /** Too far behind: stop feeding it and tell it to resume, without holding anyone else up. */
    const cutOffSlow = () => {
      cutOff = true;
      stats.slowConsumerCloses += 1;
      ws.close(CLOSE_RESUME, 'too slow: reconnect and resume with after=<last seq>');
      setTimeout(() => ws.terminate(), 10_000).unref();
      for (const s of subs.values()) s.stop();
      unwatchRuns?.();
    };

    const send = (msg: LiveMessage, json = JSON.stringify(msg)): boolean => {
      if (cutOff || ws.readyState !== ws.OPEN) return false;
      if (ws.bufferedAmount > config.api.wsMaxBufferedBytes) {
        cutOffSlow();
        return false;
      }
      ws.send(json);
      return true;
    };

    /**
     * Each beat asks again who the caller is: a credential that ended closes the socket (4401); roles that changed
     * become the socket's, and the runs it follows that its caller may no longer see are dropped (`run_access_ended`).
     * The runs feed reads `caller` at each change, so it follows the new roles at once.
     */
    const recheck = async () => {
      const now = await credentials.recheck(caller);
      if (ws.readyState !== ws.OPEN) return;
      if ('ended' in now) return ws.close(CLOSE_CREDENTIAL_ENDED, CREDENTIAL_END_REASONS[now.ended]);
      if (!now.changed) return;
      caller = now.caller;
      const followed = [...subs.entries()];
      const records = await store.runs.getMany(followed.map(([runId]) => runId));
      for (const [runId, sub] of followed) {
        if (subs.get(runId) !== sub) continue; // subscribed again meanwhile, and checked then with the new roles
        const run = records.find((r) => r.id === runId);
        if (run && access.canSee(caller, run)) continue;
        sub.stop();
        subs.delete(runId);
        send({ type: 'error', code: 'run_access_ended', message: 'you may no longer see this run; its feed has stopped', runId });
      }
    };

    // A peer that misses a pong is dead — unless data is still queued for it, in which case it is
    // merely behind (its pong waits behind that data) and is told to resume instead.
    const ping = setInterval(() => {
      void recheck().catch((err: unknown) => logger.debug({ err }, 'socket recheck failed; the next beat asks again')); // the database is unreachable
      if (!alive) {
        if (ws.bufferedAmount > 0 && !cutOff) cutOffSlow();
        else ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, config.api.wsPingIntervalSec * 1000);
    ws.on('pong', () => (alive = true));

    ws.on('message', (data, isBinary) => {
      let parsed;
      try {
        parsed = clientMessage.safeParse(JSON.parse(isBinary ? '' : data.toString()));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        send({ type: 'error', code: 'invalid_message', message: 'expected {type:"subscribe",runId,after}, {type:"unsubscribe",runId}, {type:"watch-runs"} or {type:"unwatch-runs"}' });
        return;
      }
      const msg = parsed.data;
      if (msg.type === 'watch-runs' || msg.type === 'unwatch-runs') {
        unwatchRuns?.();
        unwatchRuns = msg.type === 'watch-runs' ? runsFeed.watch(() => caller, (m) => void send(m)) : undefined;
        return;
      }
      subs.get(msg.runId)?.stop();
      subs.delete(msg.runId);
      if (msg.type === 'unsubscribe') return;
      void (async () => {
        const run = await store.runs.get(msg.runId);
        if (!run || !access.canSee(caller, run)) {
          send({ type: 'error', code: 'run_not_found', message: 'run not found', runId: msg.runId });
          return;
        }
        if (subs.size >= MAX_SUBSCRIPTIONS) {
          send({ type: 'error', code: 'too_many_subscriptions', message: `at most ${MAX_SUBSCRIPTIONS} runs per socket`, runId: msg.runId });
          return;
        }
        const sub = new Subscription(msg.runId, msg.after, { hub, store, snapshot: () => runs.view(caller, msg.runId), watch: () => presence.watch(msg.runId, user) }, send);
        subs.set(msg.runId, sub);
        await sub.start();
      })().catch((err) => {
        logger.warn({ err, runId: msg.runId }, 'subscription failed');
        send({ type: 'error', code: 'subscription_failed', message: 'could not follow this run; subscribe again', runId: msg.runId });
      });
    });

    ws.on('close', () => {
      stats.sockets -= 1;
      clearInterval(ping);
      for (const s of subs.values()) s.stop(); // a client going away cancels nothing but its own feed
      subs.clear();
      unwatchRuns?.();
    });
    ws.on('error', (err) => logger.debug({ err }, 'socket error'));
  }

  return {
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
