/**
 * The HTTP server: the JSON API under /api, live updates (WebSocket /ws and SSE), Slack
 * interactions, health and metrics, and the web UI when it is built. Everything here is thin; runs
 * are owned by Temporal, not by requests or sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import express from 'express';
import type { Bus } from '../shared/bus/bus';
import { ConfigError, type Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { notifierFromConfig, type ApprovalNotifier } from '../shared/slack/notifier';
import type { Store } from '../shared/store';
import { Access } from './access';
import { createAuthenticator, principalOf, requireUser, type Authenticator, type BearerCheck } from './auth';
import { apiKeyCheck } from './api-key-check';
import { ApiKeyService } from './api-key-service';
import { apiKeysRouter } from './routes/api-keys';
import { errorHandler, unknownRoute } from './errors';
import { createSignIn, requireCsrf, sessionInfoHandler } from './identity';
import { FollowUpService } from './follow-up-service';
import { schedulesRouter } from './routes/schedules';
import { capacityRouter } from './routes/capacity';
import { CapacityService } from './capacity-service';
import { WorkspaceService } from './workspace-service';
import { workspaceRouter } from './routes/workspace';
import { openBlobStore } from '../shared/workspaces/open-blob-store';
import { ScheduleService } from './schedule-service';
import { requireAllowedHost } from './host-check';
import { HumanService } from './human-service';
import { jsonBody } from './json-body';
import { LiveHub } from './live/live-hub';
import { RunsFeed } from './live/runs-feed';
import { Presence } from './live/presence';
import { sseHandler } from './live/sse';
import { CredentialWatch } from './live/credential-watch';
import { userFromTicketOrToken } from './live/ticket-redemption';
import { attachWebSocketServer, type LiveStats } from './live/ws-server';
import { approvalsRouter } from './routes/approvals';
import { inboxRouter } from './routes/inbox';
import { agentsRouter } from './routes/agents';
import { AgentService } from './agent-service';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { createApiMetrics } from './api-metrics';
import { requestLogging } from './request-logging';
import { traceRequests } from './request-tracing';
import { runsRouter } from './routes/runs';
import { teamsRouter } from './routes/teams';
import { TeamService, applyConfiguredRoles } from './team-service';
import { refuseNulInUrl } from './nul-refusal';
import { slackRouter } from './routes/slack';
import { slackIdentitiesFor } from './slack-identity';
import { webRouter } from './routes/web';
import { RunService } from './run-service';
import { openApiDocument } from '../contract/openapi';
import { packageVersion } from '../shared/package-info';

export interface ApiDeps {
  config: Config;
  store: Store;
  client: Client;
  bus: Bus;
  logger: Logger;
  /** Slack (or nothing); defaults to what config says. */
  notifier?: ApprovalNotifier;
  /** Bearer checks asked before API_TOKENS (tests: a key-like credential with narrow scopes). */
  bearers?: BearerCheck[];
}

export interface ApiServer {
  app: express.Express;
  server: http.Server;
  url: string;
  live: LiveStats;
  close(): Promise<void>;
}

interface App {
  app: express.Express;
  access: Access;
  auth: Authenticator;
  credentials: CredentialWatch;
  runs: RunService;
  hub: LiveHub;
  runsFeed: RunsFeed;
  presence: Presence;
  live: LiveStats;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function createApp(deps: ApiDeps): App {
  const { config, store, client, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  const access = new Access(config);
  const live: LiveStats = { sockets: 0, slowConsumerCloses: 0 };
  const capacity = new CapacityService({ store, config, access });
  const metrics = createApiMetrics({ store, live, capacity });
  app.use(requestLogging(logger, metrics));
  app.use(traceRequests());
  app.use(requireAllowedHost(config));
  app.use(refuseNulInUrl);
  app.use(healthRouter({ client, store, namespace: config.temporal.namespace, logger }));

  // Sign-in (OIDC_ISSUER): the provider's JWTs as bearer tokens, the browser's session cookie, the /auth routes.
  const signIn = createSignIn({ config, store, logger });
  // API keys (`lh_…`) are checked against the database on every request: a revocation holds at once on every replica.
  const auth = createAuthenticator({
    tokens: config.api.tokens,
    roles: store.teamMembers,
    bearers: [...(deps.bearers ?? []), apiKeyCheck({ store }), ...(signIn?.bearers ?? [])],
    session: signIn?.session,
    signInRequired: signIn !== undefined,
  });
  const runs = new RunService({ store, client, config, logger, access, bus: deps.bus });
  const humans = new HumanService({ store, client, access, logger });
  const workspaces = new WorkspaceService({ store, blobs: openBlobStore(config, store), runs, bus: deps.bus });
  const followUps = new FollowUpService({ store, client, config, logger, runs });
  const schedules = new ScheduleService({ store, client, config, logger, runs, access });
  const hub = new LiveHub(store, deps.bus);
  const runsFeed = new RunsFeed({ bus: deps.bus, store, access, logger });
  // Whether the key, session or token behind an open socket or event stream still works, and its caller's roles now.
  const credentials = new CredentialWatch({ store, sessionIdleSec: config.sessions.idleSec });
  const presence = new Presence(store, logger);

  if (config.slack) {
    // Slack signs its requests instead of sending our bearer tokens; it has its own route and checks.
    const identities = slackIdentitiesFor(config.slack, { users: store.users, auth, logger });
    app.use('/slack', slackRouter({ slack: config.slack, humans, store, notifier: deps.notifier ?? notifierFromConfig(config, 2), logger, identities }));
  }

  if (signIn) app.use(signIn.router);

  // EventSource cannot send headers, so the stream also accepts a single-use ticket.
  app.get('/api/runs/:id/stream', userFromTicketOrToken({ store, auth, credentials }), sseHandler({ config, store, access, credentials, runs, hub, presence }));

  const api = express.Router();
  // The API's own description is public: tools fetch it before they hold a token.
  const openapi = openApiDocument({ version: packageVersion(), serverUrl: config.api.publicUrl });
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // Who am I and how to sign in: answered before sign-in too, so the web UI knows what to offer.
  api.get('/session', sessionInfoHandler({ config, store, auth, cookies: signIn?.cookies }));
  api.use(requireUser(auth));
  if (signIn) api.use(requireCsrf(signIn.cookies));
  api.use(jsonBody(config.api.maxBodyBytes));
  api.use('/keys', apiKeysRouter({ keys: new ApiKeyService({ store }) }));
  api.post('/ws-ticket', async (req, res) => {
    const caller = principalOf(req);
    const { user, keyId, sessionId, expiresAt, scopes } = caller;
    // The ticket carries the credential that asked, so the socket it opens ends when that key, session or token does.
    const holder = { user, scopes, ...(keyId !== undefined && { keyId }), ...(sessionId !== undefined && { sessionId }), ...(expiresAt !== undefined && { expiresAt }) };
    res.status(201).json(await store.wsTickets.issue(holder, config.api.wsTicketTtlSec));
  });
  api.use('/runs', workspaceRouter({ workspaces }));
  api.use('/runs', runsRouter({ runs, humans, followUps, store, maxTextChars: config.api.maxGoalChars }));
  api.use('/approvals', approvalsRouter({ humans }));
  api.use('/inbox', inboxRouter({ humans }));
  api.use('/agents', agentsRouter({ agents: new AgentService({ store }) }));
  api.use('/schedules', schedulesRouter({ schedules }));
  api.use('/teams', teamsRouter({ teams: new TeamService({ store, config, access }) }));
  api.use(capacityRouter({ capacity }));
  api.use(unknownRoute);
  app.use('/api', api);
  app.use('/metrics', requireUser(auth), metricsRouter({ metrics }));
  app.use(webRouter());

  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return { app, access, auth, credentials, runs, hub, runsFeed, presence, live };
}

/** Without API_TOKENS or sign-in the API is open, so it may only listen on loopback. */
export function assertSafeBind(config: Config): void {
  if (!config.api.tokens && !config.oidc && !LOOPBACK.has(config.api.host)) {
    throw new ConfigError([`HOST=${config.api.host} exposes an open API: set API_TOKENS or OIDC_ISSUER (sign-in), or bind 127.0.0.1`]);
  }
}

export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  assertSafeBind(deps.config);
  // TEAM_ROLES: a static-token deployment's roles, written before the first request is answered.
  await applyConfiguredRoles(deps.store, deps.config);
  const { app, access, auth, credentials, runs, hub, runsFeed, presence, live } = createApp(deps);
  const server = http.createServer(app);
  server.requestTimeout = 60_000;
  const ws = attachWebSocketServer(server, { config: deps.config, store: deps.store, access, auth, credentials, runs, hub, runsFeed, presence, logger: deps.logger, stats: live });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.config.api.port, deps.config.api.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app,
    server,
    url: `http://${host}:${address.port}`,
    live,
    close: async () => {
      ws.close();
      hub.close();
      runsFeed.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await presence.close();
      await runs.drain();
    },
  };
}
