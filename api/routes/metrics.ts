/**
 * GET /metrics: Prometheus text with run counts by status and the number of live runs the sweeper
 * has flagged as stalled. (Workers export the Temporal SDK's own metrics separately; see
 * METRICS_PROMETHEUS_ADDRESS.)
 */
import { Router } from 'express';
import type { Store } from '../../shared/store';
import { RUN_STATUSES } from '../../contract/run';
import type { LiveStats } from '../live/ws-server';

export function metricsRouter(deps: { store: Store; live: LiveStats }): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const { byStatus, stalled } = await deps.store.runs.statusCounts();
    const lines = [
      '# HELP longhaul_runs Runs by status.',
      '# TYPE longhaul_runs gauge',
      ...RUN_STATUSES.map((s) => `longhaul_runs{status="${s}"} ${byStatus[s] ?? 0}`),
      '# HELP longhaul_runs_stalled Unfinished runs the sweeper flagged for showing no progress for longer than STALL_THRESHOLD_SEC.',
      '# TYPE longhaul_runs_stalled gauge',
      `longhaul_runs_stalled ${stalled}`,
      '# HELP longhaul_live_sockets Open WebSocket connections to this API process.',
      '# TYPE longhaul_live_sockets gauge',
      `longhaul_live_sockets ${deps.live.sockets}`,
      '# HELP longhaul_live_slow_consumer_closes_total Sockets closed (code 4008) for falling too far behind.',
      '# TYPE longhaul_live_slow_consumer_closes_total counter',
      `longhaul_live_slow_consumer_closes_total ${deps.live.slowConsumerCloses}`,
    ];
    res.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
  return router;
}
