/**
 * Throughput on one worker: `runs` concurrent runs of `steps` steps each (the model answers in
 * process at once, one cheap tool per step) on the tuned dev server, worker and API in this
 * process. Reports steps per second over the whole batch and this process's CPU per step (user +
 * system: Longhaul's worker, API and stores; the dev server is another process). Goals (issue 11):
 * ≥ 50 steps/s at 400 runs × 10 steps on this machine, ≤ 15 ms CPU per step.
 */
import { ScriptedModel } from './scripted-model';
import { startHarness } from '../test/support/harness';

export async function throughputBench(opts: { runs?: number; steps?: number } = {}) {
  const runs = opts.runs ?? Number(process.env.THROUGHPUT_RUNS ?? 400);
  const steps = opts.steps ?? 10;
  const model = new ScriptedModel(steps);
  const h = await startHarness({
    modelFor: () => model,
    env: { LOG_LEVEL: 'silent', LLM_MODEL: 'scripted', MAX_CONCURRENT_RUNS_PER_USER: String(runs), MAX_QUEUED_RUNS_PER_USER: String(runs), SEGMENT_MAX_TURNS: '1000' },
  });
  try {
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: runs }, (_, i) => h.createRun({ goal: `throughput ${i}`, model: 'demo', approvals: 'none', limits: { maxSteps: steps + 5 } })));
    await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const totalSteps = runs * (steps + 1); // each run's final answer is a step too
    return {
      runs,
      stepsPerRun: steps + 1,
      seconds: Number(seconds.toFixed(1)),
      stepsPerSecond: Number((totalSteps / seconds).toFixed(1)),
      cpuMsPerStep: Number(((cpu.user + cpu.system) / 1000 / totalSteps).toFixed(1)),
      goals: { stepsPerSecond: 50, cpuMsPerStep: 15 },
    };
  } finally {
    await h.close();
  }
}
