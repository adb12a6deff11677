/** `npm run api`: the HTTP API and web UI as their own process, for deployments. */
import { createBus } from '../shared/bus/create-bus';
import { loadConfig, redactedConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore } from '../shared/store';
import { closeClient, connectClient } from '../shared/temporal/connection';
import { ensureSearchAttributes } from '../shared/temporal/search-attributes';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'longhaul-api' });
  logger.info({ config: redactedConfig(config) }, 'starting API');
  const store = await createStore(config);
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.temporal.namespace).catch((err) =>
    logger.warn({ err }, 'could not register search attributes; register them with `temporal operator search-attribute create`'),
  );
  const bus = await createBus({ config, store, role: 'api', logger });
  const api = await startApiServer({ config, store, client, bus, logger });
  logger.info({ url: api.url }, 'API listening');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping API');
    await api.close();
    await bus.close();
    await closeClient(client);
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
