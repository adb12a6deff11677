/** Steering runs: pause and resume at the next step boundary, cancel. Only the run's owner may. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunRecord } from '../shared/store/runs';
import { pauseSignal, resumeSignal } from '../contract/workflow-messages';
import { isTerminalStatus } from '../contract/run';
import { ApiError } from './errors';

export class RunSteering {
  constructor(private readonly deps: { client: Client; /** The run, if the user owns it (404 / 403 otherwise). */ getOwned: (user: string, id: string) => Promise<RunRecord> }) {}

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  async control(user: string, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    const run = await this.deps.getOwned(user, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    const handle = this.deps.client.workflow.getHandle(id);
    try {
      if (action === 'pause') await handle.signal(pauseSignal, { by: user });
      else await handle.signal(resumeSignal, { by: user });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
  }

  async cancel(user: string, id: string): Promise<RunRecord> {
    const run = await this.deps.getOwned(user, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    try {
      await this.deps.client.workflow.getHandle(id).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
  }
}
