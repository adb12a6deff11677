/**
 * GET /metrics: Prometheus text with run counts by status and the number of live runs the sweeper
 * has flagged as stalled. (Workers export the Temporal SDK's own metrics separately; see
 * METRICS_PROMETHEUS_ADDRESS.)
 */
import { Router } from 'express';
import type { Store } from '../../shared/store';
import { RUN_STATUSES } from '../../contract/run';
import { WORKSPACE_STATES } from '../../contract/workspace';
import type { LiveStats } from '../live/ws-server';
import type { CapacityService } from '../capacity-service';
import type { CapacityReport } from '../../contract/api';

/** One gauge line per model and limit; a limit that is not set is left out. */
function perModel(name: string, help: string, report: CapacityReport, value: (m: CapacityReport['models'][number]) => Record<string, number | null>): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const m of report.models) {
    for (const [limit, v] of Object.entries(value(m))) if (v !== null) lines.push(`${name}{model=${JSON.stringify(m.model)},limit="${limit}"} ${v}`);
  }
  return lines;
}

export function metricsRouter(deps: { store: Store; live: LiveStats; capacity: CapacityService }): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const { byStatus, stalled } = await deps.store.runs.statusCounts();
    const capacity = await deps.capacity.capacity();
    const workspaces = await deps.store.workspaces.stats();
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
      ...perModel('longhaul_model_rate_limit', "The API key's per-minute limit.", capacity, (m) => m.limits),
      ...perModel('longhaul_model_capacity_available', 'What each rate-limit bucket holds now.', capacity, (m) => m.available),
      ...perModel('longhaul_model_used_last_minute', 'Requests and tokens (as the provider counts them) of calls answered in the last minute.', capacity, (m) => ({
        rpm: m.usedLastMinute.requests,
        inputTpm: m.usedLastMinute.inputTokens,
        outputTpm: m.usedLastMinute.outputTokens,
      })),
      ...perModel('longhaul_model_reserved', 'Requests and tokens of calls granted and not yet answered.', capacity, (m) => ({
        rpm: m.reserved.requests,
        inputTpm: m.reserved.inputTokens,
        outputTpm: m.reserved.outputTokens,
      })),
      '# HELP longhaul_workspaces Workspaces by state.',
      '# TYPE longhaul_workspaces gauge',
      ...WORKSPACE_STATES.map((s) => `longhaul_workspaces{state="${s}"} ${workspaces.byState[s] ?? 0}`),
      '# HELP longhaul_workspace_stored_bytes Bytes of the current versions of all workspaces not released.',
      '# TYPE longhaul_workspace_stored_bytes gauge',
      `longhaul_workspace_stored_bytes ${workspaces.storedBytes}`,
      '# HELP longhaul_workspace_local_bytes Bytes of active workspaces on workers\' disks.',
      '# TYPE longhaul_workspace_local_bytes gauge',
      `longhaul_workspace_local_bytes ${workspaces.localBytes}`,
      '# HELP longhaul_workspace_restore_seconds Time workers spent restoring workspaces from their durable copies.',
      '# TYPE longhaul_workspace_restore_seconds summary',
      `longhaul_workspace_restore_seconds_sum ${workspaces.restoreMs / 1000}`,
      `longhaul_workspace_restore_seconds_count ${workspaces.restores}`,
      '# HELP longhaul_model_runs_waiting Runs waiting for model capacity.',
      '# TYPE longhaul_model_runs_waiting gauge',
      ...capacity.models.map((m) => `longhaul_model_runs_waiting{model=${JSON.stringify(m.model)}} ${m.runsWaiting}`),
      '# HELP longhaul_model_rate_limited_last_hour 429s the provider answered in the last hour.',
      '# TYPE longhaul_model_rate_limited_last_hour gauge',
      ...capacity.models.map((m) => `longhaul_model_rate_limited_last_hour{model=${JSON.stringify(m.model)}} ${m.rateLimitedLastHour}`),
    ];
    res.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
  return router;
}
