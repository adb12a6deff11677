/**
 * What the API does with runs, one face over three jobs: starting them (run-starts.ts), reading
 * them (run-reads.ts) and steering them (run-steering.ts). The HTTP layer only parses and shapes
 * responses; the other services use the parts they need.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Bus } from '../shared/bus/bus';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import type { Progress } from '../contract/run';
import type { CreateRunBody, RunSummary, RunUpgradeAccepted, RunView } from '../contract/api';
import type { AgentData, AgentVersion } from '../contract/agents';
import type { Access } from './access';
import type { Principal } from '../contract/identity';
import { RunReads, type ListQuery } from './run-reads';
import { RunStarts, type ResolvedRequest, type RunRequest } from './run-starts';
import { RunSteering } from './run-steering';
import { OwedStarts } from './owed-starts';

export class RunService {
  readonly starts: RunStarts;
  readonly reads: RunReads;
  readonly steering: RunSteering;
  /** The workflow starts of runs committed here, made after the answer when Temporal is slow to take them. */
  readonly owedStarts: OwedStarts;

  constructor(deps: { store: Store; client: Client; config: Config; logger: Logger; access: Access; /** Announces new runs to runs feeds in this process. */ bus?: Bus }) {
    this.owedStarts = new OwedStarts(deps);
    this.starts = new RunStarts({ ...deps, owedStarts: this.owedStarts });
    this.reads = new RunReads(deps);
    this.steering = new RunSteering({ client: deps.client, store: deps.store, owedStarts: this.owedStarts, getSteerable: (caller, id) => this.reads.getSteerable(caller, id) });
  }

  /** The agent a request names, at the version new runs get; null when it names none. 400 `unknown_agent`. */
  agentFor(body: Pick<CreateRunBody, 'agent'>): Promise<AgentVersion | null> {
    return this.starts.agentFor(body);
  }

  /** Resolves defaults, admin minimums and maxima, and the agent's own (from agentFor); throws 4xx for values out of range. */
  resolveRequest(body: RunRequest, agent: AgentVersion | null = null): ResolvedRequest {
    return this.starts.resolveRequest(body, agent);
  }

  /** The data of the agent version a run is pinned to; undefined for a run that names no agent. */
  agentDataOf(run: Pick<RunRecord, 'agent' | 'agentVersion'>): Promise<AgentData | undefined> {
    return this.starts.agentDataOf(run);
  }

  create(caller: Principal, body: CreateRunBody, idempotencyKey: string | undefined): Promise<{ run: RunRecord; replayed: boolean }> {
    return this.starts.create(caller, body, idempotencyKey);
  }

  /** The run, if the caller may see it (api/access.ts); 404 otherwise. */
  getVisible(caller: Principal, id: string): Promise<RunRecord> {
    return this.reads.getVisible(caller, id);
  }

  /** The run, if the caller may steer it; 404 if they cannot see it, 403 if they see but may not steer it. */
  getSteerable(caller: Principal, id: string): Promise<RunRecord> {
    return this.reads.getSteerable(caller, id);
  }

  view(caller: Principal, id: string): Promise<RunView> {
    return this.reads.view(caller, id);
  }

  /** Asks the workflow for its progress; undefined when no worker answers in time. */
  queryProgress(id: string): Promise<Progress | undefined> {
    return this.reads.queryProgress(id);
  }

  /**
   * Waits for queries and workflow starts in flight (at most their timeouts) and tries no start again (the sweeper
   * makes those): call before closing the client.
   */
  async drain(): Promise<void> {
    await Promise.all([this.reads.drain(), this.owedStarts.close()]);
  }

  progressFromRecord(run: RunRecord): Progress {
    return this.reads.progressFromRecord(run);
  }

  list(caller: Principal, q: ListQuery): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    return this.reads.list(caller, q);
  }

  /** The run's child runs (sub-agents), oldest first: 404 unless the user may see the run. */
  children(caller: Principal, id: string): Promise<RunSummary[]> {
    return this.reads.children(caller, id);
  }

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  control(caller: Principal, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    return this.steering.control(caller, id, action);
  }

  cancel(caller: Principal, id: string): Promise<RunRecord> {
    return this.steering.cancel(caller, id);
  }

  /** Moves a run to its agent's current version at its next model call (whoever may steer the run). */
  upgrade(caller: Principal, id: string): Promise<RunUpgradeAccepted> {
    return this.steering.upgrade(caller, id);
  }
}
