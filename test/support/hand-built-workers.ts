/**
 * Temporal workers over activity deps a test built by hand (a catalog of agents made in the test, a scripted
 * model): a workflow Worker on each queue given, and the activity Worker of the process's own queue, as a worker
 * process runs them; `stop()` drains them all and closes their connection.
 */
import type { ActivityDeps } from '../../activities';
import type { Config } from '../../shared/config';
import { connectWorker } from '../../shared/temporal/connection';
import { createActivityWorker, createWorker } from '../../worker/create-worker';

export async function startHandBuiltWorkers(config: Config, deps: ActivityDeps, queues: { workflows: string[]; workerQueue: string }): Promise<{ stop(): Promise<void> }> {
  const connection = await connectWorker(config);
  const workers = [
    ...(await Promise.all(queues.workflows.map((taskQueue) => createWorker({ connection, config, deps, taskQueue })))),
    await createActivityWorker({ connection, config, deps, taskQueue: queues.workerQueue }),
  ];
  const running = workers.map((w) => w.run());
  return {
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await connection.close();
    },
  };
}
