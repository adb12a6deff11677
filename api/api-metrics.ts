/**
 * The API process's Prometheus metrics (prom-client, one registry per app): request durations, the
 * process's own (CPU, memory, event loop), and gauges read from the database when scraped — runs
 * by status, stalled runs, approvals and questions waiting and the age of the oldest, model
 * capacity and 429s, workspaces — plus this process's live sockets. Workers export the model, tool
 * and step measurements (worker-metrics.ts) with the Temporal SDK's own, at METRICS_PROMETHEUS_ADDRESS.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../shared/store';
import { RUN_STATUSES } from '../contract/run';
import { WORKSPACE_STATES } from '../contract/workspace';
import type { CapacityReport } from '../contract/api';
import type { CapacityService } from './capacity-service';
import type { LiveStats } from './live/ws-server';

type Model = CapacityReport['models'][number];

export interface ApiMetrics {
  registry: Registry;
  /** Seconds a request took, by method, route pattern and status. */
  requestDuration: Histogram<'method' | 'route' | 'status'>;
}

const ageSeconds = (iso: string | null, now: number) => (iso ? Math.max(0, (now - Date.parse(iso)) / 1000) : 0);

export function createApiMetrics(deps: { store: Store; live: LiveStats; capacity: CapacityService }): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'longhaul_api_' });
  const { store, live, capacity } = deps;

  const requestDuration = new Histogram({
    name: 'longhaul_http_request_duration_seconds',
    help: 'HTTP requests to the API, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // One database read per scrape, however many gauges it feeds: the gauges' collect() share it.
  let snapshot: Promise<Awaited<ReturnType<typeof read>>> | undefined;
  async function read() {
    const [runs, approvals, questions, workspaces, models] = await Promise.all([
      store.runs.statusCounts(),
      store.approvals.pendingStats(),
      store.inputs.pendingStats(),
      store.workspaces.stats(),
      capacity.capacity(),
    ]);
    return { runs, approvals, questions, workspaces, models: models.models, now: Date.now() };
  }
  const current = () => {
    snapshot ??= read().finally(() => setImmediate(() => (snapshot = undefined)));
    return snapshot;
  };

  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Awaited<ReturnType<typeof read>>) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await current());
      },
    });
  const perModel = (name: string, help: string, pick: (m: Model) => Record<string, number | null>) =>
    gauge(name, help, ['model', 'limit'] as const, (g, s) => {
      for (const m of s.models) for (const [limit, v] of Object.entries(pick(m))) if (v !== null) g.set({ model: m.model, limit }, v);
    });

  gauge('longhaul_runs', 'Runs by status.', ['status'] as const, (g, s) => {
    for (const status of RUN_STATUSES) g.set({ status }, s.runs.byStatus[status] ?? 0);
  });
  gauge('longhaul_runs_stalled', 'Unfinished runs the sweeper flagged for showing no progress for longer than STALL_THRESHOLD_SEC.', [], (g, s) => g.set(s.runs.stalled));
  gauge('longhaul_approvals_waiting', 'Approvals waiting for a decision.', [], (g, s) => g.set(s.approvals.count));
  gauge('longhaul_approvals_oldest_wait_seconds', 'How long the oldest waiting approval has waited (0: none waits).', [], (g, s) => g.set(ageSeconds(s.approvals.oldestRequestedAt, s.now)));
  gauge('longhaul_questions_waiting', "Agents' questions waiting for an answer.", [], (g, s) => g.set(s.questions.count));
  gauge('longhaul_questions_oldest_wait_seconds', 'How long the oldest waiting question has waited (0: none waits).', [], (g, s) => g.set(ageSeconds(s.questions.oldestRequestedAt, s.now)));
  new Gauge({
    name: 'longhaul_live_sockets',
    help: 'Open WebSocket connections to this API process.',
    registers: [registry],
    collect() {
      this.set(live.sockets);
    },
  });
  // A counter, as its `_total` says: this process's closes since it started (it only goes up).
  let slowClosesCounted = 0;
  new Counter({
    name: 'longhaul_live_slow_consumer_closes_total',
    help: 'Sockets closed (code 4008) for falling too far behind.',
    registers: [registry],
    collect() {
      this.inc(live.slowConsumerCloses - slowClosesCounted);
      slowClosesCounted = live.slowConsumerCloses;
    },
  });
  perModel('longhaul_model_rate_limit', "The API key's per-minute limit.", (m) => m.limits);
  perModel('longhaul_model_capacity_available', 'What each rate-limit bucket holds now.', (m) => m.available);
  perModel('longhaul_model_used_last_minute', 'Requests and tokens (as the provider counts them) of calls answered in the last minute.', (m) => ({
    rpm: m.usedLastMinute.requests,
    inputTpm: m.usedLastMinute.inputTokens,
    outputTpm: m.usedLastMinute.outputTokens,
  }));
  perModel('longhaul_model_reserved', 'Requests and tokens of calls granted and not yet answered.', (m) => ({
    rpm: m.reserved.requests,
    inputTpm: m.reserved.inputTokens,
    outputTpm: m.reserved.outputTokens,
  }));
  gauge('longhaul_model_runs_waiting', 'Runs waiting for model capacity.', ['model'] as const, (g, s) => {
    for (const m of s.models) g.set({ model: m.model }, m.runsWaiting);
  });
  gauge('longhaul_model_rate_limited_last_hour', '429s the provider answered in the last hour.', ['model'] as const, (g, s) => {
    for (const m of s.models) g.set({ model: m.model }, m.rateLimitedLastHour);
  });
  gauge('longhaul_workspaces', 'Workspaces by state.', ['state'] as const, (g, s) => {
    for (const state of WORKSPACE_STATES) g.set({ state }, s.workspaces.byState[state] ?? 0);
  });
  gauge('longhaul_workspace_stored_bytes', 'Bytes of the current versions of all workspaces not released.', [], (g, s) => g.set(s.workspaces.storedBytes));
  gauge('longhaul_workspace_local_bytes', "Bytes of active workspaces on workers' disks.", [], (g, s) => g.set(s.workspaces.localBytes));
  // Restore times are the workers' histogram (longhaul_workspace_restore_duration_ms), where restores happen.

  return { registry, requestDuration };
}
