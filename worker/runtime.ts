/**
 * The Temporal SDK runtime of a worker process: its logs go to our structured logger and, with
 * METRICS_PROMETHEUS_ADDRESS set, its metrics (the SDK's own and Longhaul's, e.g.
 * longhaul_stalled_runs_flagged) are served for Prometheus. Call once, before connecting.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';

/**
 * The SDK's start-up chatter that says nothing an operator acts on: the activity-only affinity
 * worker polls no workflows by design, and nobody here registers Nexus services.
 */
const ROUTINE = [/^No workflows registered, not polling/, /^No Nexus services registered/, /^No activities registered, not polling/];

export function installRuntime(logger: Logger, config: Pick<Config, 'metricsPrometheusAddress'>): void {
  const level = (logger.level === 'debug' || logger.level === 'trace' ? 'DEBUG' : 'INFO') as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const fields = { ...entry.meta, sdk: 'temporal' };
      const routine = ROUTINE.some((r) => r.test(entry.message));
      const method = routine ? 'debug' : entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : entry.level === 'DEBUG' || entry.level === 'TRACE' ? 'debug' : 'info';
      logger[method](fields, entry.message);
    }),
    ...(config.metricsPrometheusAddress && { telemetryOptions: { metrics: { prometheus: { bindAddress: config.metricsPrometheusAddress } } } }),
  });
}
