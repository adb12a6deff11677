/** `npm run api`: the HTTP API and web UI as their own process, for deployments. */
import { loadConfig, redactedConfig } from '../shared/config';
import { openFoundation } from '../shared/foundation';
import { createLogger } from '../shared/logger';
import { redactText } from '../shared/redact';
import { startTracing } from '../shared/tracing';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'longhaul-api' });
  logger.info({ config: redactedConfig(config) }, 'starting API');
  const tracing = startTracing(config, 'longhaul-api');
  const foundation = await openFoundation({ config, logger, role: 'api' });
  const api = await startApiServer({ config, ...foundation, logger });
  logger.info({ url: api.url }, 'API listening');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping API');
    await api.close();
    await foundation.close();
    await tracing.shutdown(); // exports the spans still buffered
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  // Not through the logger: still never a URL's credentials or a configured secret.
  console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  process.exit(1);
});
