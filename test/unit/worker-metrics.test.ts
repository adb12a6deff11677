/**
 * The worker's own measurements: the counters an alert watches exist at 0 from the start (for the
 * models the deployment names), and a workspace restore is one histogram observation.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { createWorkerMetrics } from '../../activities/worker-metrics';
import { recordRestore } from '../../activities/workspace-events';
import type { ActivityDeps } from '../../activities/deps';

/** A meter that writes down each measurement: [kind, name, value, tags]. */
function recordingMeter() {
  const seen: [string, string, number, MetricTags][] = [];
  const instrument = (kind: string, name: string) => {
    const record = (value: number, tags: MetricTags = {}) => seen.push([kind, name, value, tags]);
    return { name, unit: undefined, description: undefined, kind, valueType: 'int', add: record, record, set: record, withTags: () => instrument(kind, name) };
  };
  const meter = {
    createCounter: (name: string) => instrument('counter', name),
    createHistogram: (name: string) => instrument('histogram', name),
    createGauge: (name: string) => instrument('gauge', name),
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, seen };
}

describe('worker metrics', () => {
  it('starts the counters alerts watch at 0: 429s, throttling by limit, stalls and skipped firings', () => {
    const { meter, seen } = recordingMeter();
    createWorkerMetrics(meter, { models: ['claude-sonnet-5-5', 'claude-haiku-4-5', 'claude-sonnet-5-5'], throttledModels: ['claude-haiku-4-5'] });
    expect(seen).toEqual(
      expect.arrayContaining([
        ['counter', 'longhaul_model_rate_limited_total', 0, { model: 'claude-sonnet-5-5' }],
        ['counter', 'longhaul_model_rate_limited_total', 0, { model: 'claude-haiku-4-5' }],
        ['counter', 'longhaul_model_throttled_total', 0, { model: 'claude-haiku-4-5', limit: 'rpm' }],
        ['counter', 'longhaul_model_throttled_total', 0, { model: 'claude-haiku-4-5', limit: 'input_tpm' }],
        ['counter', 'longhaul_model_throttled_total', 0, { model: 'claude-haiku-4-5', limit: 'output_tpm' }],
        ['counter', 'longhaul_stalled_runs_flagged', 0, {}],
        ['counter', 'longhaul_abandoned_starts_reaped', 0, {}],
        ['counter', 'longhaul_owed_starts_made', 0, {}],
        ['counter', 'longhaul_schedule_firings_skipped_total', 0, { reason: 'queue_full' }],
      ]),
    );
    expect(seen.filter(([, name]) => name === 'longhaul_model_rate_limited_total')).toHaveLength(2); // each model once
    expect(seen.every(([, , value]) => value === 0)).toBe(true); // nothing counted yet
  });

  it('records a workspace restore in one histogram, in milliseconds', async () => {
    const { meter, seen } = recordingMeter();
    const deps = {
      store: { events: { append: async () => [] } },
      bus: { publish: () => undefined },
      workspaces: { holder: 'worker-1' },
      metrics: createWorkerMetrics(meter),
    } as unknown as Pick<ActivityDeps, 'store' | 'bus' | 'workspaces' | 'metrics'>;
    seen.length = 0;
    await recordRestore(deps, 'run_1', { files: 3, bytes: 120, ms: 41.6, cycle: 2 });
    await recordRestore(deps, 'run_1', null); // nothing restored: nothing measured
    expect(seen).toEqual([['histogram', 'longhaul_workspace_restore_duration_ms', 42, {}]]);
  });

  it('records each wait for a pooled database connection in one histogram, in milliseconds', () => {
    const { meter, seen } = recordingMeter();
    const metrics = createWorkerMetrics(meter);
    seen.length = 0;
    metrics.databaseConnectionWait(0.2);
    metrics.databaseConnectionWait(2_417.6);
    expect(seen).toEqual([
      ['histogram', 'longhaul_db_connection_wait_ms', 0, {}],
      ['histogram', 'longhaul_db_connection_wait_ms', 2_418, {}],
    ]);
  });
});
