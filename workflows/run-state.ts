/**
 * The workflow's in-memory state of a run: counters, ids and short summaries only — never the
 * conversation. Pure: no Temporal calls, so its rules are unit-testable on their own.
 */
import type { ModelCallHistory } from './legacy-local-steps';
import { raisedTo, sumUsage, type ApprovalDecision, type CarriedState, type PendingApproval, type PendingInput, type PauseCause, type Progress, type RunError, type RunInput, type RunLimits, type RunStatus, type TreeLimit, type Usage, type UserInput, type WaitingFor } from '../contract/run';

export class RunState {
  status: RunStatus = 'queued';
  statusDetail: string | null = null;
  waitingFor: WaitingFor | null = null;
  error: RunError | null = null;
  lastEventAt: string | null = null;

  segment: number;
  /** The turn about to run (or running): model calls made so far + 1. */
  turn: number;
  /** Turns taken in this segment, for the relay's handoff rule. */
  segmentTurns = 0;
  usage: Usage;
  costCheckpointsPassed: number;
  startedAtMs: number | null;
  paused: boolean;
  pausedBy: string | null = null;
  /** Why the current pause was asked for; null for a pause carried from the previous segment (cause unknown). */
  pauseCause: PauseCause | null = null;
  resumedBy: string | null = null;
  /** Pauses so far in this segment, to key each pause's events. */
  pauseCount = 0;
  /** A resume of a pause not taken yet (see ControlRequest.pause): it ends that pause when the run takes it. */
  private earlyResume: { by: string; pause: string } | null = null;
  extraSegments: number;
  recentToolCalls: string[];

  readonly pendingApprovals = new Map<string, PendingApproval>();
  private readonly decisions = new Map<string, ApprovalDecision>();
  pendingInput: PendingInput | null = null;
  private inputAnswer: UserInput | null = null;
  /** Epoch ms of the last LonghaulLastProgressAt stamp. */
  lastStampMs = 0;
  /** Signalled when an owner's concurrency slot frees up. */
  admissionNudged = false;
  /** Follow-up messages wait in the database: take them in at the next turn boundary. */
  followUpsWaiting = false;
  /** The turn of the latest model call in this execution (0: none yet). */
  lastModelTurn = 0;
  /** Continuations by follow-ups after an ending; keys each lap's ending events. */
  lap: number;
  /** The caps in force: the run's own, raised by follow-ups that asked for more. */
  limits: RunLimits;
  /** The worker queue holding the run's workspace: its tool calls go there first. */
  workspaceQueue: string | undefined;
  /** Final results the agent's output schema rejected so far, over the run's segments. */
  outputRejections: number;
  /**
   * The recorded spend of the run's whole tree (its sub-agents' runs below it) as its latest answer said; 0
   * until an answer says (a run with no children, or one recorded before sub-agents counted their money). Carried
   * across the relay, so the next segment's caps count it before its first answer.
   */
  treeCostUsd: number;
  /** A model call of this turn and lap was refused before it was made: it did not fit a cap of the run tree. */
  private refused: { turn: number; lap: number; limit: TreeLimit; value: number; message: string } | null = null;
  /** Replay-only: this execution's model calls so far, which placed the next one in recorded histories (workflows/legacy-local-steps.ts). */
  modelCalls: ModelCallHistory = { previous: null, lastRoundTripAtMs: null };

  constructor(readonly input: RunInput) {
    const carried = input.carried;
    this.segment = carried?.segment ?? 0;
    this.turn = carried?.turn ?? 1;
    this.usage = carried?.usage ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    this.costCheckpointsPassed = carried?.costCheckpointsPassed ?? 0;
    this.startedAtMs = carried?.startedAtMs ?? null;
    this.paused = carried?.paused ?? false;
    this.extraSegments = carried?.extraSegments ?? 0;
    this.recentToolCalls = carried?.recentToolCalls ?? [];
    this.lap = carried?.lap ?? 0;
    this.limits = input.limits;
    this.workspaceQueue = carried?.workspaceQueue ?? input.workspaceQueue;
    this.outputRejections = carried?.outputRejections ?? 0;
    this.treeCostUsd = carried?.treeCostUsd ?? 0;
    // A continued run queues for a slot like a new one; a relayed one is already running.
    if (carried && !carried.continued) this.status = 'running';
    // A continued run's follow-ups wait by definition; a relayed one's, if they were signalled during the hand-off.
    if (carried?.continued || carried?.followUpsWaiting) this.followUpsWaiting = true;
  }

  setStatus(status: RunStatus, detail: string | null = null, waitingFor: WaitingFor | null = null): void {
    this.status = status;
    this.statusDetail = detail;
    this.waitingFor = waitingFor;
  }

  addUsage(u: Usage): void {
    this.usage = sumUsage(this.usage, u);
    // The run's own spend is part of its tree's (the relay's summary, say, before an answer reports the tree again).
    if (this.treeCostUsd > 0) this.treeCostUsd += u.costUsd;
  }

  /** Takes in an answer: its usage, and its tree's spend when it says. */
  addAnswer(answer: { usage: Usage; treeCostUsd?: number }): void {
    this.addUsage(answer.usage);
    if (answer.treeCostUsd !== undefined) this.treeCostUsd = answer.treeCostUsd;
  }

  /**
   * The tree's spend as a child's ending found it (its settle). Recorded spend only grows: a settle read before
   * another that reached the workflow first never lowers it.
   */
  takeTreeSpend(costUsd: number): void {
    this.treeCostUsd = Math.max(this.treeCostUsd, costUsd);
  }

  /** What the caps and the cost checkpoint count: the run's own spend, or its tree's when that is known and more. */
  get countedCostUsd(): number {
    return Math.max(this.usage.costUsd, this.treeCostUsd);
  }

  /** The turn's model call was refused (a cap of the run tree): the turn's cap check ends the run. */
  refuseCall(refusal: { limit: TreeLimit; value: number; message: string }): void {
    this.refused = { turn: this.turn, lap: this.lap, limit: refusal.limit, value: refusal.value, message: refusal.message };
  }

  /** The refusal of `turn`'s call in this lap, if there was one (a follow-up's new lap starts clear). */
  refusalAt(turn: number): { limit: TreeLimit; value: number; message: string } | null {
    const r = this.refused;
    return r && r.turn === turn && r.lap === this.lap ? { limit: r.limit, value: r.value, message: r.message } : null;
  }

  // Approvals: the first decision for a pending approval wins; anything else is ignored.
  recordDecision(d: ApprovalDecision): boolean {
    if (!this.pendingApprovals.has(d.approvalId) || this.decisions.has(d.approvalId)) return false;
    this.decisions.set(d.approvalId, d);
    return true;
  }

  decisionFor(approvalId: string): ApprovalDecision | undefined {
    return this.decisions.get(approvalId);
  }

  settleApproval(approvalId: string): void {
    this.pendingApprovals.delete(approvalId);
    this.decisions.delete(approvalId);
  }

  recordInput(answer: UserInput): boolean {
    if (!this.pendingInput || this.pendingInput.requestId !== answer.requestId || this.inputAnswer) return false;
    this.inputAnswer = answer;
    return true;
  }

  currentInputAnswer(): UserInput | null {
    return this.inputAnswer;
  }

  /** Forgets the question once it is settled. */
  clearInput(): void {
    this.inputAnswer = null;
    this.pendingInput = null;
  }

  hasInputAnswer(): boolean {
    return this.inputAnswer !== null;
  }

  /** `cause`: a person's request unless the run pauses itself (at its segment cap, or out of budget). */
  requestPause(by: string, cause: PauseCause = 'request'): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedBy = by;
    this.pauseCause = cause;
    this.pauseCount += 1;
  }

  /** `pause`: the key of the pause the resume ends; a resume naming a pause the run has not taken yet is kept for it. */
  requestResume(by: string, pause?: string): void {
    if (!this.paused) {
      if (pause !== undefined) this.earlyResume = { by, pause };
      return;
    }
    this.paused = false;
    this.resumedBy = by;
    this.earlyResume = null;
  }

  /** Ends the pause just taken (keyed `pause`) if a resume for it came first; says whether one did. */
  takeEarlyResume(pause: string): boolean {
    if (!this.paused || this.earlyResume?.pause !== pause) return false;
    this.requestResume(this.earlyResume.by);
    return true;
  }

  /** Consecutive identical failing calls; `threshold` in a row means the model is looping. */
  noteToolCall(signature: string, failed: boolean, threshold: number): boolean {
    if (!failed) {
      this.recentToolCalls = [];
      return false;
    }
    if (this.recentToolCalls.length && this.recentToolCalls[this.recentToolCalls.length - 1] !== signature) {
      this.recentToolCalls = [];
    }
    this.recentToolCalls = [...this.recentToolCalls, signature].slice(-threshold);
    return this.recentToolCalls.length >= threshold;
  }

  /**
   * The progress snapshot. Pending approvals and questions are shown only in the status that waits
   * for them, so a snapshot taken while a wait is being settled is never half old, half new.
   */
  progress(status: RunStatus = this.status, statusDetail: string | null = this.statusDetail, waitingFor: WaitingFor | null = this.waitingFor): Progress {
    return {
      runId: this.input.runId,
      status,
      statusDetail,
      waitingFor,
      model: this.input.model,
      turn: this.turn,
      segment: this.segment,
      usage: this.usage,
      limits: this.limits,
      pendingApprovals: status === 'waiting_approval' ? [...this.pendingApprovals.values()] : [],
      pendingInput: status === 'waiting_input' ? this.pendingInput : null,
      error: this.error,
      lastEventAt: this.lastEventAt,
    };
  }

  /**
   * What the next segment starts from. `followUps`: whether follow-ups signalled and not taken in yet go too (only
   * the replay of a history recorded before they did leaves them out; see agent-run.ts).
   */
  carry({ followUps = true }: { followUps?: boolean } = {}): CarriedState {
    return {
      segment: this.segment + 1,
      turn: this.turn,
      usage: this.usage,
      costCheckpointsPassed: this.costCheckpointsPassed,
      startedAtMs: this.startedAtMs ?? 0,
      paused: this.paused,
      recentToolCalls: this.recentToolCalls,
      extraSegments: this.extraSegments,
      ...(this.lap > 0 && { lap: this.lap }),
      ...(this.workspaceQueue && { workspaceQueue: this.workspaceQueue }),
      ...(this.outputRejections > 0 && { outputRejections: this.outputRejections }),
      ...(this.treeCostUsd > 0 && { treeCostUsd: this.treeCostUsd }),
      ...(followUps && this.followUpsWaiting && { followUpsWaiting: true }),
    };
  }

  /**
   * The agent's output schema rejected a final result (or the model answered in text where one was due).
   * Returns whether the run has now had more rejections than the `retries` it allows.
   */
  rejectOutput(retries: number): boolean {
    this.outputRejections += 1;
    return this.outputRejections > retries;
  }

  /** Follow-ups may raise caps, never lower them. */
  raiseLimits(raised: Partial<RunLimits>): void {
    this.limits = raisedTo(this.limits, raised);
  }
}
