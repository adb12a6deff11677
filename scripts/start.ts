/**
 * `npm start`: everything on one laptop in one command. With TEMPORAL_ADDRESS unset it starts
 * Temporal's dev server persisted under DATA_DIR (runs survive a restart of everything), then the
 * worker and the API + web UI in this process, and prints where to go. With TEMPORAL_ADDRESS set
 * it connects to that server and starts none (local-temporal.ts). `longhaul dev` is the same with a
 * developer's worker entry, the worker in a child process (client/cli/dev.ts).
 */
import fs from 'node:fs';
import { startApiServer } from '../api/server';
import { loadConfig, redactedConfig } from '../shared/config';
import { openFoundation } from '../shared/foundation';
import { createLogger } from '../shared/logger';
import { startTracing } from '../shared/tracing';
import { installRuntime } from '../worker/runtime';
import { startWorker } from '../worker/start-worker';
import { startLocalTemporal } from './local-temporal';
import { redactText } from '../shared/redact';

/** The launcher's lock (scripts/launch.js) learns the URL, so a second start can say where this one is. */
function recordUrlInLock(url: string): void {
  const lock = process.env.LONGHAUL_START_LOCK;
  if (!lock) return;
  try {
    const held = JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number };
    if (held.pid === process.pid) fs.writeFileSync(lock, JSON.stringify({ ...held, url }));
  } catch {
    // no lock to update
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'longhaul' });
  installRuntime(logger, config);
  logger.debug({ config: redactedConfig(config) }, 'configuration');
  const tracing = startTracing(config, 'longhaul');

  const devServer = await startLocalTemporal(config, logger);

  const foundation = await openFoundation({ config, logger, role: 'shared' }); // worker and API share this process
  const running = await startWorker({ config, foundation, logger });
  const api = await startApiServer({ config, ...foundation, logger });

  recordUrlInLock(api.url);
  const lines = [
    '',
    '  Longhaul is running',
    `    Web UI and API   ${api.url}`,
    `    Temporal         ${devServer ? `dev server on ${devServer.address}` : config.temporal.address}${config.temporal.uiUrl ? ` (UI ${config.temporal.uiUrl})` : ''}`,
    `    Model            ${config.model.defaultModel === 'demo' ? 'demo (offline; set ANTHROPIC_API_KEY for Claude)' : config.model.defaultModel}`,
    `    Database         ${foundation.store.opened.location}`,
    '',
    `  Open ${api.url} and start a run. Ctrl-C stops everything; runs carry on at the next start.`,
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
    await tracing.shutdown();
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
  console.error(redactText(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
