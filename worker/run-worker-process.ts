/**
 * A worker process: open the foundation, start the worker, poll until SIGTERM/SIGINT, then drain —
 * stop polling, let in-flight activities finish within WORKER_SHUTDOWN_GRACE_SEC — and return.
 * `npm run worker` runs it with the built-in agent alone; a deployment with its own agents calls it with
 * their `definition` (defineWorker), one with its own tools alone with `extraTools`.
 * Started again by its own worker with TOOL_SANDBOX_ENV set, the same entry serves one suspect tool call instead
 * (sandboxed-tool-call.ts): that is how a sandbox has the entry's tools, closures and all.
 */
import type { WorkerDefinition } from '../activities/agents/agent-definition';
import type { ToolDefinition } from '../activities/tools/tool';
import { loadConfig, redactedConfig } from '../shared/config';
import { openFoundation } from '../shared/foundation';
import { createLogger } from '../shared/logger';
import { startTracing } from '../shared/tracing';
import { startWorkerHealth } from './health-server';
import { installRuntime } from './runtime';
import { startWorker } from './start-worker';
import { TOOL_SANDBOX_ENV } from '../activities/tools/tool-sandbox';
import { currentEntry, forkedToolSandbox } from './forked-tool-sandbox';
import { serveSandboxedCall } from './sandboxed-tool-call';

export async function runWorkerProcess(opts: { definition?: WorkerDefinition; extraTools?: ToolDefinition<any>[] } = {}): Promise<void> {
  if (process.env[TOOL_SANDBOX_ENV] && process.send) return serveSandboxedCall(opts);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'longhaul-worker' });
  installRuntime(logger, config);
  logger.info({ config: redactedConfig(config) }, 'starting worker');
  const tracing = startTracing(config, 'longhaul-worker');

  const foundation = await openFoundation({ config, logger, role: 'worker' });
  // This entry can be forked again to run a suspect call: the sandbox exists only for workers started here.
  const entry = config.tools.sandboxSuspects ? currentEntry() : undefined;
  const toolSandbox = entry && forkedToolSandbox(entry, logger);
  const running = await startWorker({ config, foundation, logger, definition: opts.definition, extraTools: opts.extraTools, toolSandbox });
  const health = config.workerHealthAddress ? await startWorkerHealth({ address: config.workerHealthAddress, worker: running.worker, taskQueue: config.temporal.taskQueue }) : undefined;
  if (health) logger.info({ url: `${health.url}/healthz` }, 'worker health endpoint');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig, graceSec: config.activities.workerShutdownGraceSec }, 'draining: no new tasks, waiting for in-flight activities');
      running.drain();
    });
  }
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  await running.done;
  await health?.stop();
  await foundation.close();
  await tracing.shutdown(); // exports the spans still buffered
  logger.info('worker stopped');
}
