/**
 * A run started in a test environment, and what a test does with it: wait for it to ask a human, decide and
 * answer as a person would (through the API's own services, so a decision is recorded in the database and
 * then signalled, exactly as in production), wait for its end, and read what happened.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { RunErrorCode } from '../contract/errors';
import type { EventType, RunEvent, RunEventOf } from '../contract/events';
import { messageKeys } from '../contract/keys';
import { isTerminalStatus, type RunError, type RunLimits, type Risk, type Usage } from '../contract/run';
import { followUpBody, type ApprovalView, type FollowUpAccepted } from '../contract/api';
import type { ToolResultContent } from '../activities/model/context-builder';
import type { HumanService } from '../api/human-service';
import type { FollowUpService } from '../api/follow-up-service';
import type { RunService } from '../api/run-service';
import { parseOr400 } from '../api/schemas';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import type { HumanRequestKind, TimeControl } from './time-control';
import type { Principal } from '../contract/identity';

/** A user of an in-process test, acting with no team roles: a personal run's owner, or a legacy APPROVER. */
export const actingAs = (user: string): Principal => ({ user, roles: [], scopes: 'all', method: 'open' });

/** How a run ended, when it completed. */
export interface RunOutcome {
  status: 'completed';
  /** The validated structured output (agents with an `output` schema), else null. */
  output: unknown;
  /** The final answer's text. */
  result: string | null;
  usage: Usage;
  /** Model turns taken. */
  turns: number;
}

/** The run failed or was cancelled: `code` is the run's error code (`cancelled` for a cancelled run). */
export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    readonly status: 'failed' | 'cancelled',
    readonly code: RunErrorCode | 'cancelled',
    /** The run's recorded error (null for a cancelled run). */
    readonly error: RunError | null,
  ) {
    super(status === 'cancelled' ? `run ${runId} was cancelled` : `run ${runId} failed (${code}): ${error?.message ?? 'no message'}`);
    this.name = 'RunFailedError';
  }
}

/** A question the run asked its owner (the model's `ask_user` call). */
export interface PendingQuestion {
  requestId: string;
  question: string;
  requestedAt: string;
  expiresAt: string;
}

/** A tool call the model made, and what became of it. */
export interface ToolCallRecord {
  /** The tool_use id. */
  id: string;
  turn: number;
  name: string;
  input: unknown;
  risk: Risk;
  /**
   * `completed`: it ran and returned; `failed`: it ran and failed (or a question expired unanswered);
   * `skipped`: it did not run (rejected, or its approval expired); `pending`: no result yet.
   */
  outcome: 'completed' | 'failed' | 'skipped' | 'pending';
  /** What the model was given back: the output, the error, or why it did not run (null while pending). */
  result: string | null;
}

export interface WaitOptions {
  /** Wall-clock time to wait before failing (default 60 s). */
  timeoutMs?: number;
}

/** What a test run needs of its environment. */
export interface TestRunDeps {
  store: Store;
  client: Client;
  time: TimeControl;
  runs: RunService;
  humans: HumanService;
  followUps: FollowUpService;
  /** Who decides approvals in tests (an approver). */
  approver: string;
}

const POLL_MS = 20;
const DEFAULT_WAIT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TestRun {
  constructor(
    /** The run's id (also its workflow id). */
    readonly id: string,
    /** The user the run belongs to: messages and answers come from them. */
    readonly owner: string,
    private readonly deps: TestRunDeps,
  ) {}

  /** The run's record as the database holds it now. */
  async record(): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(this.id);
    if (!run) throw new Error(`run ${this.id} has no record in the database`);
    return run;
  }

  /**
   * Resolves with the approval the run waits for, once it waits for one; rejects if the run ends first.
   * Meanwhile time skips (timers fire at once: a question the run asks first expires unanswered), and stops
   * the moment the run asks for an approval.
   */
  async waitForApproval(opts: WaitOptions = {}): Promise<ApprovalView> {
    return this.waitForHuman('approval', opts, async () => {
      const [pending] = await this.deps.store.approvals.listPending({ runIds: [this.id] });
      return pending ? this.deps.humans.viewOf(pending) : undefined;
    });
  }

  /**
   * Resolves with the question the run asked its owner, once it asked one; rejects if the run ends first.
   * Meanwhile time skips (an approval the run asks for first expires undecided), and stops when it asks.
   */
  async waitForQuestion(opts: WaitOptions = {}): Promise<PendingQuestion> {
    return this.waitForHuman('question', opts, async () => {
      const pending = await this.deps.store.inputs.pendingForRun(this.id);
      return pending ? { requestId: pending.id, question: pending.question, requestedAt: pending.requestedAt, expiresAt: pending.expiresAt } : undefined;
    });
  }

  private async waitForHuman<T>(kind: HumanRequestKind, opts: WaitOptions, found: () => Promise<T | undefined>): Promise<T> {
    const what = kind === 'approval' ? 'an approval' : 'a question';
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_WAIT_MS);
    const check = async (): Promise<T | undefined> => {
      const run = await this.record();
      const request = await found();
      if (request !== undefined) return request;
      if (isTerminalStatus(run.status)) {
        const why = run.error ? ` (${run.error.code}: ${run.error.message})` : '';
        throw new Error(`run ${this.id} ended ${run.status}${why} without asking for ${what}`);
      }
      return undefined;
    };
    // Expected before looking: a request recorded from here on holds time, however it races the first look.
    this.deps.time.expect(this.id, kind);
    try {
      for (let first = true; ; first = false) {
        if (!first) await sleep(POLL_MS);
        const request = await check();
        if (first && request === undefined) await this.deps.time.skip(this.id);
        if (request !== undefined) return request;
        if (Date.now() > deadline) {
          const run = await this.record();
          throw new Error(`run ${this.id} did not ask for ${what} within ${opts.timeoutMs ?? DEFAULT_WAIT_MS} ms (it is ${run.status}${run.statusDetail ? `: ${run.statusDetail}` : ''})`);
        }
      }
    } finally {
      await this.deps.time.hold(this.id);
    }
  }

  /** The oldest approval the run waits for; an error when it waits for none. */
  private async pendingApproval(): Promise<string> {
    const [pending] = await this.deps.store.approvals.listPending({ runIds: [this.id] });
    if (!pending) throw new Error(`run ${this.id} has no pending approval (await run.waitForApproval() first)`);
    return pending.id;
  }

  /** Approves the pending approval, as an approver through the API would. */
  async approve(comment?: string): Promise<ApprovalView> {
    return this.decide('approve', comment);
  }

  /** Rejects the pending approval: the call does not run, and the model is told (with the comment). */
  async reject(comment?: string): Promise<ApprovalView> {
    return this.decide('reject', comment);
  }

  private async decide(decision: 'approve' | 'reject', comment: string | undefined): Promise<ApprovalView> {
    const approvalId = await this.pendingApproval();
    const { approval } = await this.deps.humans.decide({ runId: this.id, approvalId, caller: actingAs(this.deps.approver), decision, comment, channel: 'api' });
    return this.deps.humans.viewOf(approval);
  }

  /** Answers the run's open question as its owner. */
  async answer(text: string): Promise<void> {
    await this.deps.humans.answer({ runId: this.id, caller: actingAs(this.owner), text });
  }

  /** Sends the run a follow-up message as its owner; a run that had ended goes on with it. */
  async message(text: string, limits?: Partial<RunLimits>): Promise<FollowUpAccepted> {
    const body = parseOr400(followUpBody, { text, ...(limits && { limits }) }, 'invalid_request');
    return (await this.deps.followUps.send(actingAs(this.owner), this.id, body, undefined)).accepted;
  }

  /**
   * Cancels the run as its owner. (On the time-skipping server, cancel a run that has been waiting a moment:
   * that server refuses the cancellation of an activity scheduled but not started yet, and the run stalls.)
   */
  async cancel(): Promise<void> {
    await this.deps.runs.cancel(actingAs(this.owner), this.id);
  }

  /**
   * Waits for the run's end, letting time skip meanwhile (an approval nobody decides expires at once), and
   * returns how it completed; throws a RunFailedError, carrying the run's error code, when it did not.
   */
  async result(): Promise<RunOutcome> {
    await this.deps.time.skip();
    try {
      // The latest execution: a follow-up continues an ended run in a new one, the relay in the next.
      await this.deps.client.workflow.getHandle(this.id).result();
    } catch (err) {
      // A failed run fails its workflow too; what it failed of is recorded in the database, read below.
      if (!(err instanceof WorkflowFailedError)) throw err;
    } finally {
      await this.deps.time.hold();
    }
    const run = await this.record();
    if (run.status === 'completed') {
      return { status: 'completed', output: run.output ?? null, result: run.result, usage: run.usage, turns: run.turn };
    }
    if (run.status === 'failed') throw new RunFailedError(this.id, 'failed', run.error?.code ?? 'internal', run.error);
    if (run.status === 'cancelled') throw new RunFailedError(this.id, 'cancelled', 'cancelled', run.error);
    throw new Error(`run ${this.id}'s workflow ended but the run is ${run.status}`);
  }

  /** The run's recorded events, in order; of one type when `type` is given. */
  async events(): Promise<RunEvent[]>;
  async events<T extends EventType>(type: T): Promise<RunEventOf<T>[]>;
  async events(type?: EventType): Promise<RunEvent[]> {
    const all: RunEvent[] = [];
    for (let after = 0; ; ) {
      const page = await this.deps.store.events.list(this.id, { after, limit: 500 });
      all.push(...page);
      if (page.length < 500) break;
      after = page[page.length - 1]!.seq;
    }
    return type ? all.filter((e) => e.type === type) : all;
  }

  /** Every tool call the model made, in order, with what became of it. */
  async toolCalls(): Promise<ToolCallRecord[]> {
    const events = await this.events();
    const skipped = new Set(events.flatMap((e) => (e.type === 'tool.failed' && e.data.skipped ? [e.data.toolUseId] : [])));
    const calls: ToolCallRecord[] = [];
    for (const e of events) {
      if (e.type !== 'llm.message') continue;
      for (const call of e.data.toolCalls) {
        const stored = await this.deps.store.messages.get(this.id, messageKeys.toolResult(call.id));
        const result = stored?.content as ToolResultContent | undefined;
        const outcome = !result ? 'pending' : !result.isError ? 'completed' : skipped.has(call.id) ? 'skipped' : 'failed';
        calls.push({ id: call.id, turn: e.data.turn, name: call.name, input: call.input, risk: call.risk, outcome, result: result?.content ?? null });
      }
    }
    return calls;
  }
}
