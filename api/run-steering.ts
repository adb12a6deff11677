/** Steering runs: pause and resume at the next step boundary, cancel, upgrade to the agent's current version. Only the run's owner may. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunRecord } from '../shared/store/runs';
import type { Store } from '../shared/store';
import type { RunUpgradeAccepted } from '../contract/api';
import { pauseSignal, resumeSignal } from '../contract/workflow-messages';
import { isTerminalStatus } from '../contract/run';
import { ApiError } from './errors';

export class RunSteering {
  constructor(private readonly deps: { client: Client; store: Store; /** The run, if the user owns it (404 / 403 otherwise). */ getOwned: (user: string, id: string) => Promise<RunRecord> }) {}

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  async control(user: string, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    const run = await this.deps.getOwned(user, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    const handle = this.deps.client.workflow.getHandle(id);
    try {
      if (action === 'pause') await handle.signal(pauseSignal, { by: user });
      else await handle.signal(resumeSignal, { by: user, ...(await this.pauseShown(run)) });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
  }

  /**
   * The pause a resume ends, as the store shows it: the store can show a pause its workflow has not yet taken (the
   * worker that decided it died before its workflow task completed), and naming it keeps the resume from being lost.
   */
  private async pauseShown(run: RunRecord): Promise<{ pause?: string }> {
    if (run.status !== 'paused') return {};
    const pause = await this.deps.store.events.latestKey(run.id, 'run.paused');
    return pause === undefined ? {} : { pause };
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

  /**
   * Asks for the run's move to its agent's current version: recorded on the run, applied by its next model
   * call (on a worker serving the agent), which appends `run.upgraded`. The workflow is not told: it needs nothing.
   */
  async upgrade(user: string, id: string): Promise<RunUpgradeAccepted> {
    const run = await this.deps.getOwned(user, id);
    if (!run.agent || !run.agentVersion) throw new ApiError(409, 'run_has_no_agent', 'the run names no agent: it runs the built-in agent as the current code defines it, with no version to move');
    if (isTerminalStatus(run.status) || !(await this.deps.store.runs.requestUpgrade(id))) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    return { id: run.id, agent: run.agent, from: run.agentVersion, status: 'upgrading' };
  }
}
