/**
 * `npm start`: everything on one laptop in one command. With TEMPORAL_ADDRESS unset it starts
 * Temporal's dev server persisted under DATA_DIR (runs survive a restart of everything), then the
 * worker and the API + web UI in this process, and prints where to go. With TEMPORAL_ADDRESS set
 * it connects to that server and starts none.
 */
import path from 'node:path';
import { assertSafeBind, startApiServer } from '../api/server';
import { loadConfig, redactedConfig } from '../shared/config';
import { openFoundation } from '../shared/foundation';
import { createLogger } from '../shared/logger';
import { startDevServer, type DevServer } from '../shared/temporal/dev-server';
import { installRuntime } from '../worker/runtime';
import { startWorker } from '../worker/start-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'longhaul' });
  installRuntime(logger, config);
  logger.debug({ config: redactedConfig(config) }, 'configuration');

  // Refuse an unsafe bind before starting anything (the dev server would otherwise be left running).
  assertSafeBind(config);
  let devServer: DevServer | undefined;
  if (!config.temporal.address) {
    devServer = await startDevServer({
      port: config.temporal.devPort,
      uiPort: config.temporal.devUiPort,
      dbFile: path.join(config.dataDir, 'temporal.sqlite'),
      logFile: path.join(config.dataDir, 'temporal-dev-server.log'),
      log: (m) => logger.info(m),
    });
  }

  const foundation = await openFoundation({ config, logger, role: 'shared' }); // worker and API share this process
  const running = await startWorker({ config, foundation, logger });
  const api = await startApiServer({ config, ...foundation, logger });

  const lines = [
    '',
    '  Longhaul is running',
    `    Web UI and API   ${api.url}`,
    `    Temporal         ${devServer ? `dev server on ${devServer.address}` : config.temporal.address}${devServer?.uiUrl ? ` (UI ${devServer.uiUrl})` : ''}`,
    `    Model            ${config.model.defaultModel === 'demo' ? 'demo (offline; set ANTHROPIC_API_KEY for Claude)' : config.model.defaultModel}`,
    `    Database         ${foundation.store.opened.location}`,
    '',
    `  Try it:  curl -s -X POST ${api.url}/api/runs -H 'content-type: application/json' -d '{"goal":"Plan a picnic","approvals":"none"}'`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await api.close();
    await running.stop();
    await foundation.close();
    await devServer?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await running.done.catch(async (err) => {
    logger.error({ err }, 'worker stopped unexpectedly');
    await stop('worker-failure');
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
