/**
 * Steering runs: pause and resume at the next step boundary (a run tree's every live run), cancel (which Temporal
 * carries to child runs itself), upgrade to the agent's current version. Whoever may steer the run (api/access.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunRecord } from '../shared/store/runs';
import type { Principal } from '../contract/identity';
import type { Store } from '../shared/store';
import type { RunUpgradeAccepted } from '../contract/api';
import { pauseSignal, resumeSignal } from '../contract/workflow-messages';
import { isTerminalStatus } from '../contract/run';
import { ApiError } from './errors';
import type { OwedStarts } from './owed-starts';

export class RunSteering {
  constructor(
    private readonly deps: {
      client: Client;
      store: Store;
      /** A run committed a moment ago may not have its workflow yet: its start is made before the run is told. */
      owedStarts: OwedStarts;
      /** The run, if the caller may steer it (404 / 403 otherwise). */
      getSteerable: (caller: Principal, id: string) => Promise<RunRecord>;
    },
  ) {}

  /**
   * Pause takes effect at the next step boundary; resume lets a paused run carry on. Either applies to the run's
   * whole tree: the run, then every live run below it (its sub-agents' child runs and theirs), each at its own
   * step boundary. A paused run starts no more children (its delegations still queued wait until it is resumed:
   * workflows/delegation.ts), so the runs live when asked are the tree. A resume reaches every live run below but those that paused
   * themselves (at their segment cap, or out of a daily budget): those keep their own resume, asked of the run itself,
   * as the tree's pause never paused them. The run resumed by name is resumed whatever paused it.
   */
  async control(caller: Principal, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    const run = await this.deps.getSteerable(caller, id);
    const user = caller.user;
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    await this.deps.owedStarts.ensure(run);
    const tell = async (target: RunRecord) => {
      const handle = this.deps.client.workflow.getHandle(target.id);
      if (action === 'pause') await handle.signal(pauseSignal, { by: user });
      else await handle.signal(resumeSignal, { by: user, ...(await this.pauseShown(target)) });
    };
    try {
      await tell(run);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    for (const below of await this.deps.store.tree.descendantIds(id, { live: true })) {
      const child = await this.deps.store.runs.get(below);
      if (!child || isTerminalStatus(child.status)) continue;
      if (action === 'resume' && child.status === 'paused' && (await this.deps.store.tree.pausedItself(child.id))) continue;
      try {
        await tell(child);
      } catch (err) {
        // A child that ended between the read and the signal has nothing left to pause or resume.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
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

  async cancel(caller: Principal, id: string): Promise<RunRecord> {
    const run = await this.deps.getSteerable(caller, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    await this.deps.owedStarts.ensure(run);
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
