/**
 * `npm run temporal:dev`: only the Temporal dev server, persisted under DATA_DIR, for running
 * `npm run worker` and `npm run api` as separate processes against it (TEMPORAL_ADDRESS).
 */
import path from 'node:path';
import { loadConfig } from '../shared/config';
import { findTemporalCli } from './temporal-cli';
import { startDevServer } from '../shared/temporal/dev-server';

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startDevServer({
    cliPath: findTemporalCli(),
    port: config.temporal.devPort,
    uiPort: config.temporal.devUiPort,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    logFile: path.join(config.dataDir, 'temporal-dev-server.log'),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`Temporal dev server on ${server.address}${server.uiUrl ? `, UI ${server.uiUrl}` : ''}\n`);
  process.stdout.write(`Point the worker and API at it: TEMPORAL_ADDRESS=${server.address}\n`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
