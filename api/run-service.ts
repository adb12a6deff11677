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
import type { ApprovalPolicy, Progress, RunInput, RunLimits, RunStatus } from '../contract/run';
import type { CreateRunBody, RunSummary, RunView } from '../contract/api';
import type { RunWebhooks } from '../shared/store/webhooks';
import type { Access } from './access';
import { RunReads } from './run-reads';
import { RunStarts } from './run-starts';
import { RunSteering } from './run-steering';

export class RunService {
  readonly starts: RunStarts;
  readonly reads: RunReads;
  readonly steering: RunSteering;

  constructor(deps: { store: Store; client: Client; config: Config; logger: Logger; access: Access; /** Announces new runs to runs feeds in this process. */ bus?: Bus }) {
    this.starts = new RunStarts(deps);
    this.reads = new RunReads(deps);
    this.steering = new RunSteering({ client: deps.client, getOwned: (user, id) => this.reads.getOwned(user, id) });
  }

  /** Resolves defaults, admin minimums and maxima; throws 400s for values out of range. */
  resolveRequest(body: Pick<CreateRunBody, 'goal' | 'model' | 'approvals' | 'limits' | 'approvalTimeoutSec' | 'webhooks' | 'metadata'>): { model: string; approvals: ApprovalPolicy; limits: RunLimits; approvalTimeoutSec: number; webhooks: RunWebhooks } {
    return this.starts.resolveRequest(body);
  }

  /** The workflow input for a run, with the deployment's current execution settings. */
  runInput(run: RunRecord, approvalTimeoutSec: number): RunInput {
    return this.starts.runInput(run, approvalTimeoutSec);
  }

  create(owner: string, body: CreateRunBody, idempotencyKey: string | undefined): Promise<{ run: RunRecord; replayed: boolean }> {
    return this.starts.create(owner, body, idempotencyKey);
  }

  /** The run, if the user may see it (its owner, or an approver); 404 otherwise. */
  getVisible(user: string, id: string): Promise<RunRecord> {
    return this.reads.getVisible(user, id);
  }

  /** The run, if the user owns it; 404 if they cannot see it, 403 if they see but do not own it. */
  getOwned(user: string, id: string): Promise<RunRecord> {
    return this.reads.getOwned(user, id);
  }

  view(user: string, id: string): Promise<RunView> {
    return this.reads.view(user, id);
  }

  /** Asks the workflow for its progress; undefined when no worker answers in time. */
  queryProgress(id: string): Promise<Progress | undefined> {
    return this.reads.queryProgress(id);
  }

  /** Waits for queries still in flight (at most the query timeout): call before closing the client. */
  drain(): Promise<void> {
    return this.reads.drain();
  }

  progressFromRecord(run: RunRecord): Progress {
    return this.reads.progressFromRecord(run);
  }

  list(owner: string, q: { statuses?: RunStatus[]; scheduleId?: string; goalContains?: string; limit: number; cursor?: string }): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    return this.reads.list(owner, q);
  }

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  control(user: string, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    return this.steering.control(user, id, action);
  }

  cancel(user: string, id: string): Promise<RunRecord> {
    return this.steering.cancel(user, id);
  }
}
