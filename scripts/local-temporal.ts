/**
 * What `npm start` and `longhaul dev` do before anything starts: refuse an unsafe bind or a port
 * another program holds (the dev server would otherwise be left running), then — with
 * TEMPORAL_ADDRESS unset — start Temporal's dev server persisted under DATA_DIR, so runs survive a
 * restart of everything. With TEMPORAL_ADDRESS set it starts none.
 */
import path from 'node:path';
import { assertSafeBind } from '../api/server';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { startDevServer, type DevServer } from '../shared/temporal/dev-server';
import { takenPorts, type PortClaim } from './ports-free';
import { findTemporalCli } from './temporal-cli';

/** The dev server also serves HTTP on its port + 1000 (the CLI's default). */
const DEV_HTTP_PORT_OFFSET = 1000;

/** Exits the process with a line per taken port; returns the dev server when one was started. */
export async function startLocalTemporal(config: Config, logger: Logger): Promise<DevServer | undefined> {
  assertSafeBind(config);
  const claims: PortClaim[] = [{ port: config.api.port, host: config.api.host, setting: 'PORT' }];
  if (!config.temporal.address) {
    const { devPort, devUiPort } = config.temporal;
    claims.push({ port: devPort, host: '127.0.0.1', setting: 'TEMPORAL_DEV_PORT' });
    claims.push({ port: devPort + DEV_HTTP_PORT_OFFSET, host: '127.0.0.1', setting: `TEMPORAL_DEV_PORT (its HTTP port, ${devPort} + ${DEV_HTTP_PORT_OFFSET})` });
    claims.push({ port: devUiPort, host: '127.0.0.1', setting: 'TEMPORAL_DEV_UI_PORT' });
  }
  const taken = await takenPorts(claims);
  if (taken.length > 0) {
    for (const t of taken) process.stderr.write(`Port ${t.port} on ${t.host} is taken by another program: stop it, or choose another with ${t.setting.split(' ')[0]}=…\n`);
    process.exit(1);
  }
  if (config.temporal.address) return undefined;
  const devServer = await startDevServer({
    cliPath: findTemporalCli(),
    port: config.temporal.devPort,
    uiPort: config.temporal.devUiPort,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    logFile: path.join(config.dataDir, 'temporal-dev-server.log'),
    log: (m) => logger.info(m),
  });
  // Each run links to its workflow in the dev server's UI unless another Temporal UI is configured.
  config.temporal.uiUrl ??= devServer.uiUrl;
  return devServer;
}
