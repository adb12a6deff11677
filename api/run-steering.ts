/** Steering runs: pause and resume at the next step boundary, cancel, upgrade to the agent's current version. Whoever may steer the run (api/access.ts). */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunRecord } from '../shared/store/runs';
import type { Principal } from '../contract/identity';
import type { Store } from '../shared/store';
import type { RunUpgradeAccepted } from '../contract/api';
import { pauseSignal, resumeSignal } from '../contract/workflow-messages';
import { isTerminalStatus } from '../contract/run';
import { ApiError } from './errors';

export class RunSteering {
  constructor(private readonly deps: { client: Client; store: Store; /** The run, if the caller may steer it (404 / 403 otherwise). */ getSteerable: (caller: Principal, id: string) => Promise<RunRecord> }) {}

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  async control(caller: Principal, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    const run = await this.deps.getSteerable(caller, id);
    const user = caller.user;
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

  async cancel(caller: Principal, id: string): Promise<RunRecord> {
    const run = await this.deps.getSteerable(caller, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    try {
      await this.deps.client.workflow.getHandle(id).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
  }

  /**
   * Asks for the run's move to its agent's current version: recorded on the run, applied by its next model
   * call (on a worker serving the agent), which appends `run.upgraded`. The workflow is not told: it needs nothing.
   */
  async upgrade(caller: Principal, id: string): Promise<RunUpgradeAccepted> {
    const run = await this.deps.getSteerable(caller, id);
    if (!run.agent || !run.agentVersion) throw new ApiError(409, 'run_has_no_agent', 'the run names no agent: it runs the built-in agent as the current code defines it, with no version to move');
    if (isTerminalStatus(run.status) || !(await this.deps.store.runs.requestUpgrade(id))) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    return { id: run.id, agent: run.agent, from: run.agentVersion, status: 'upgrading' };
  }
}
