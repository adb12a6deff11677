/**
 * Who may do what with a run. Owners see and steer their own runs. APPROVERS may see any run and
 * decide its approvals; an owner decides their own run's approvals only with SELF_APPROVAL on.
 * Anyone else cannot tell the run exists (404).
 */
import type { Config } from '../shared/config';
import type { RunRecord } from '../shared/store/runs';
import { ApiError, notFound } from './errors';

export class Access {
  private readonly approvers: Set<string>;

  constructor(private readonly config: Pick<Config, 'approvals'>) {
    this.approvers = new Set(config.approvals.approvers);
  }

  isApprover(user: string): boolean {
    return this.approvers.has(user);
  }

  canSee(user: string, run: RunRecord): boolean {
    return run.owner === user || this.isApprover(user);
  }

  canDecide(user: string, run: RunRecord): boolean {
    return this.isApprover(user) || (run.owner === user && this.config.approvals.selfApproval);
  }

  /** 404 unless the user may see the run. */
  assertVisible(user: string, run: RunRecord | undefined): asserts run is RunRecord {
    if (!run || !this.canSee(user, run)) throw notFound();
  }

  /** Cancel, pause, resume and answering the agent's questions: the owner's alone. */
  assertOwner(user: string, run: RunRecord | undefined): asserts run is RunRecord {
    this.assertVisible(user, run);
    if (run.owner !== user) throw new ApiError(403, 'forbidden', 'only the owner of a run may do this');
  }
}
