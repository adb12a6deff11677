/**
 * The HTTP server: Express app with the JSON API under /api, health checks, and (when built)
 * the web UI. Everything here is thin; runs are owned by Temporal, not by requests.
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
import { createAuthenticator, requireUser } from './auth';
import { errorHandler, unknownRoute } from './errors';
import { HumanService } from './human-service';
import { jsonBody } from './json-body';
import { approvalsRouter } from './routes/approvals';
import { metricsRouter } from './routes/metrics';
import { healthRouter } from './routes/health';
import { runsRouter } from './routes/runs';
import { slackRouter } from './routes/slack';
import { RunService } from './run-service';

export interface ApiDeps {
  config: Config;
  store: Store;
  client: Client;
  bus: Bus;
  logger: Logger;
  /** Slack (or nothing); defaults to what config says. */
  notifier?: ApprovalNotifier;
}

export interface ApiServer {
  app: express.Express;
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function createApp(deps: ApiDeps): express.Express {
  const { config, store, client, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  app.use(healthRouter({ client, store, namespace: config.temporal.namespace }));

  const access = new Access(config);
  const runs = new RunService({ store, client, config, logger, access });
  const humans = new HumanService({ store, client, access, logger });
  if (config.slack) {
    // Slack signs its requests instead of sending our bearer tokens; it has its own route and checks.
    app.use('/slack', slackRouter({ slack: config.slack, humans, store, notifier: deps.notifier ?? notifierFromConfig(config, 2), logger }));
  }

  const auth = createAuthenticator(config.api.tokens);
  const api = express.Router();
  api.use(requireUser(auth));
  api.use(jsonBody(config.api.maxBodyBytes));
  api.use('/runs', runsRouter({ runs, humans, store, maxTextChars: config.api.maxGoalChars }));
  api.use('/approvals', approvalsRouter({ humans }));
  api.use(unknownRoute);
  app.use('/api', api);
  app.use('/metrics', requireUser(auth), metricsRouter({ store }));

  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return app;
}

/** Without API_TOKENS the API is open, so it may only listen on loopback. */
export function assertSafeBind(config: Config): void {
  if (!config.api.tokens && !LOOPBACK.has(config.api.host)) {
    throw new ConfigError([`HOST=${config.api.host} exposes an open API: set API_TOKENS, or bind 127.0.0.1`]);
  }
}

export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  assertSafeBind(deps.config);
  const app = createApp(deps);
  const server = http.createServer(app);
  server.requestTimeout = 60_000;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
