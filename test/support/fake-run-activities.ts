/**
 * Mocked activities for agentRunWorkflow on the time-skipping test server (test/workflows): each typed as the real
 * one (a changed signature fails to compile), registered by name, so a call placed as a local activity and one
 * placed as an ordinary activity reach the same mock. Each run's behaviour is a `FakeRun`, found by the run id in
 * the call's arguments; it records every call, so tests assert what the run asked for and told the books.
 *
 * Timestamps are the test server's clock (which skips), as the real activities' are the database's.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import type { SyncRunStateArgs, Verdict } from '../../contract/activity-io';
import type { EventDraft, EventDraftOf, EventType } from '../../contract/events';
import type { ApprovalPolicy, ModelCallDeferral, ModelTurnResult, PendingApproval, Progress, Risk, RunInput, RunStatus, ToolCallRef, ToolOutcome, Usage, WaitingFor } from '../../contract/run';

/** The activities the run loop calls. */
export type RunLoopActivityName =
  | 'syncRunState'
  | 'claimRunSlot'
  | 'releaseRunSlot'
  | 'acceptFollowUps'
  | 'callModel'
  | 'summarize'
  | 'runTool'
  | 'recordToolResult'
  | 'requestApproval'
  | 'settleApproval'
  | 'announceApproval'
  | 'updateAnnouncement'
  | 'remind'
  | 'requestInput'
  | 'settleInput'
  | 'announceQuestion'
  | 'startChildRun'
  | 'settleChildRun'
  | 'cancelUnstartedChild';
export type RunLoopActivities = Pick<Activities, RunLoopActivityName>;
type ArgsOf<K extends RunLoopActivityName> = Parameters<RunLoopActivities[K]>[0];

/** How long a mocked model call says it took: a realistic figure, so where the next call runs is decided as in life. */
export const MODEL_CALL_TOOK_MS = 1500;

/** A model answer without what the mock fills in (`at`, `tookMs`). */
export type ScriptedAnswer = Omit<ModelTurnResult, 'at' | 'tookMs'> | ModelCallDeferral;
/** The run's model: its answer to the `n`th call (0-based) of the run, made for `turn`. */
export type ModelScript = (call: { turn: number; n: number }) => ScriptedAnswer | Promise<ScriptedAnswer>;

const usage = (costUsd: number): Usage => ({ inputTokens: 1000, outputTokens: 200, costUsd });

/** A tool call the model asks for; its id is unique per turn and position. */
export function toolCall(turn: number, name = 'read_file', risk: Risk = 'read', i = 0): ToolCallRef {
  return { toolUseId: `toolu_${turn}_${i}`, name, risk, inputHash: `${name}:${turn}:${i}` };
}

/** The model asks for `calls`, costing `costUsd`. */
export const asksForTools = (calls: ToolCallRef[], costUsd = 0.01): ScriptedAnswer => ({ stopReason: 'tool_use', toolCalls: calls, usage: usage(costUsd) });
/** The model is done. */
export const endsTurn = (costUsd = 0.01): ScriptedAnswer => ({ stopReason: 'end_turn', toolCalls: [], usage: usage(costUsd) });

export interface FakeRunOptions {
  /** Default: the model is done at once. */
  model?: ModelScript;
  /** The relay's summary costs this much (default $0.02). */
  summaryCostUsd?: number;
  /** Tools that fail (by name). */
  failingTools?: string[];
  /** Sub-agents: the child run each delegation starts (`n`: the run's delegations so far), or why it is refused. */
  children?: (call: { toolUseId: string; name: string; n: number }) => ChildRunOptions;
  /** Recording its cancellation takes this long (real time): a run slow to end when cancelled. */
  cancellingTakesMs?: number;
  /** Whether announcing an approval posted a message (Slack) to update once it is settled (default: yes). */
  announcementPosted?: boolean;
  /** Updating the approvers' announcement waits for this (a slow Slack). */
  announcementUpdated?: Promise<void>;
  /** The relay's summary waits for this (a slow summary call). */
  summarized?: Promise<void>;
  /** Called with each state the run tells the books, before the books answer (something that happens meanwhile). */
  onSync?: (args: SyncRunStateArgs) => Promise<void>;
}

/**
 * A child run's fake: its own options, the approvals it runs under, or the refusal the activity would give.
 * `recording`: recording the child run (startChildRun) takes until this resolves, as a slow database would.
 */
export type ChildRunOptions = FakeRunOptions & {
  approvals?: ApprovalPolicy;
  refuse?: string;
  settleFails?: string;
  recording?: () => Promise<void>;
  /** The parent tree's spend its settle reports (absent: it reports none, as workers before it did). */
  treeCostUsdAtEnd?: number;
};

/** A delegation call of the sub-agent `agent`. */
export function delegation(turn: number, agent: string, i = 0): ToolCallRef {
  return { ...toolCall(turn, agent, 'write', i), delegate: true };
}

/** One run's side of the world: what its activities answer, and everything they were asked. */
export class FakeRun {
  readonly calls: { [K in RunLoopActivityName]: ArgsOf<K>[] } = {
    syncRunState: [],
    claimRunSlot: [],
    releaseRunSlot: [],
    acceptFollowUps: [],
    callModel: [],
    summarize: [],
    runTool: [],
    recordToolResult: [],
    requestApproval: [],
    settleApproval: [],
    announceApproval: [],
    updateAnnouncement: [],
    remind: [],
    requestInput: [],
    settleInput: [],
    announceQuestion: [],
    startChildRun: [],
    settleChildRun: [],
    cancelUnstartedChild: [],
  };
  /** The child runs it started (sub-agents), in order. */
  readonly children: FakeRun[] = [];
  /** Its children between start and settle, now and at most. */
  childrenInFlight = 0;
  maxChildrenInFlight = 0;
  /** Where each state the run told the books falls among every run's (one count for the worker), in order. */
  readonly syncedSeq: number[] = [];
  /** The time the books gave each state the run told them (`syncRunState`'s answer), in order. */
  readonly syncedAt: string[] = [];
  /** The test server's clock at each model call, in call order. */
  readonly modelCallTimesMs: number[] = [];
  /** Tool calls the model asked for, by id (for the approval requests that name them). */
  readonly toolCalls = new Map<string, ToolCallRef>();

  constructor(
    readonly runId: string,
    readonly options: FakeRunOptions = {},
  ) {}

  /** Every state the run told the books, in order. */
  get states(): SyncRunStateArgs[] {
    return this.calls.syncRunState;
  }

  /** The statuses the run moved through, with what it waited for, in order (consecutive repeats kept). */
  statuses(): Array<{ status: RunStatus; waitingFor: WaitingFor | null }> {
    return this.states.map((s) => ({ status: s.progress.status, waitingFor: s.progress.waitingFor }));
  }

  /** Every event the run recorded, in order. */
  events(): EventDraft[] {
    return this.states.flatMap((s) => s.events ?? []);
  }

  eventsOf<T extends EventType>(type: T): EventDraftOf<T>[] {
    return this.events().filter((e): e is EventDraftOf<T> => e.type === type);
  }

  eventTypes(): EventType[] {
    return this.events().map((e) => e.type);
  }

  /** The status the run last told the books. */
  get status(): RunStatus | undefined {
    return this.states.at(-1)?.progress.status;
  }
}

/**
 * The mocked activities, one set per worker, serving every `FakeRun` registered with `add`. `nowMs` is the test
 * server's clock.
 */
export function fakeRunActivities(nowMs: () => Promise<number>, childInput: (runId: string, parent: FakeRun, options: ChildRunOptions) => { input: RunInput; taskQueue: string }) {
  const runs = new Map<string, FakeRun>();
  const iso = async () => new Date(await nowMs()).toISOString();
  let syncs = 0;
  const runOf = (runId: string): FakeRun => {
    const run = runs.get(runId);
    if (!run) throw new Error(`no fake run ${runId}`);
    return run;
  };
  function record<K extends RunLoopActivityName>(name: K, runId: string, args: ArgsOf<K>): FakeRun {
    const run = runOf(runId);
    run.calls[name].push(args);
    return run;
  }

  /** A state the books took: told on its own (`syncRunState`), or with what an activity settled (`resume`). */
  async function synced(run: FakeRun): Promise<string> {
    run.syncedSeq.push(++syncs);
    const at = await iso();
    run.syncedAt.push(at);
    return at;
  }

  /** The state an activity recorded with what it settled, kept among the states told (as `syncRunState` would). */
  async function resumedWith(run: FakeRun, progress: Progress): Promise<string> {
    run.calls.syncRunState.push({ runId: run.runId, progress });
    return synced(run);
  }

  const activities: RunLoopActivities = {
    async syncRunState(args) {
      const run = record('syncRunState', args.runId, args);
      await run.options.onSync?.(args);
      if (args.progress.status === 'cancelled' && run.options.cancellingTakesMs) await new Promise((resolve) => setTimeout(resolve, run.options.cancellingTakesMs));
      return { at: await synced(run) };
    },
    async claimRunSlot(args) {
      record('claimRunSlot', args.runId, args);
      return { admitted: true, ahead: 0, active: 0 };
    },
    async releaseRunSlot(args) {
      record('releaseRunSlot', args.owner, args); // the fake runs' owner is their run id
    },
    async acceptFollowUps(args) {
      record('acceptFollowUps', args.runId, args);
      return { accepted: 0, limits: null, at: await iso() };
    },
    async callModel(args) {
      const run = record('callModel', args.runId, args);
      const n = run.modelCallTimesMs.length;
      run.modelCallTimesMs.push(await nowMs());
      const answer = await (run.options.model ?? (() => endsTurn()))({ turn: args.turn, n });
      if ('deferred' in answer) return answer;
      for (const call of answer.toolCalls) run.toolCalls.set(call.toolUseId, call);
      return { ...answer, at: await iso(), tookMs: MODEL_CALL_TOOK_MS };
    },
    async summarize(args) {
      const run = record('summarize', args.runId, args);
      await run.options.summarized;
      return { summaryChars: 500, usage: usage(run.options.summaryCostUsd ?? 0.02) };
    },
    async runTool(args): Promise<ToolOutcome> {
      const run = record('runTool', args.runId, args);
      const call = run.toolCalls.get(args.toolUseId);
      return { isError: !!call && (run.options.failingTools ?? []).includes(call.name), replayed: false, bytes: 100 };
    },
    async recordToolResult(args) {
      record('recordToolResult', args.runId, args);
    },
    async requestApproval(args): Promise<PendingApproval> {
      const run = record('requestApproval', args.runId, args);
      const call = args.toolUseId ? run.toolCalls.get(args.toolUseId) : undefined;
      const now = await nowMs();
      return {
        approvalId: args.approvalId,
        kind: args.kind,
        tool: call?.name ?? null,
        input: call ? { path: 'notes.txt' } : null,
        risk: call?.risk ?? null,
        reason: args.reason,
        requestedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + args.timeoutSec * 1000).toISOString(),
      };
    },
    async settleApproval(args) {
      const run = record('settleApproval', args.runId, args);
      const { decision, by, channel, comment } = args.proposed;
      const verdict: Verdict =
        decision === 'expire' ? { decision: 'expired', by: null, channel: null, comment: null } : { decision: decision === 'approve' ? 'approved' : 'rejected', by, channel, comment: comment ?? null };
      return args.resume ? { ...verdict, resumedAt: await resumedWith(run, args.resume) } : verdict;
    },
    async announceApproval(args) {
      record('announceApproval', args.runId, args);
      return { posted: runOf(args.runId).options.announcementPosted ?? true };
    },
    async updateAnnouncement(args) {
      await runOf(args.runId).options.announcementUpdated;
      record('updateAnnouncement', args.runId, args);
    },
    async remind(args) {
      record('remind', args.runId, args);
      return { reminded: true };
    },
    async requestInput(args) {
      record('requestInput', args.runId, args);
      const now = await nowMs();
      return { requestId: args.requestId, toolUseId: args.toolUseId, question: 'Which file?', requestedAt: new Date(now).toISOString(), expiresAt: new Date(now + args.timeoutSec * 1000).toISOString() };
    },
    async settleInput(args) {
      const run = record('settleInput', args.runId, args);
      const answered = args.answer !== null;
      return args.resume ? { answered, resumedAt: await resumedWith(run, args.resume) } : { answered };
    },
    async announceQuestion(args) {
      record('announceQuestion', args.runId, args);
    },
    async startChildRun(args) {
      const parent = record('startChildRun', args.parentRunId, args);
      const call = parent.toolCalls.get(args.toolUseId);
      const options = parent.options.children?.({ toolUseId: args.toolUseId, name: call?.name ?? '', n: parent.calls.startChildRun.length - 1 }) ?? {};
      if (options.refuse) return { refused: options.refuse };
      // Keyed by the call, as the real one: a retry finds the same child.
      const runId = `${args.parentRunId}-${args.toolUseId}`;
      if (!runs.has(runId)) {
        parent.children.push(add(new FakeRun(runId, options)));
        parent.childrenInFlight += 1;
        parent.maxChildrenInFlight = Math.max(parent.maxChildrenInFlight, parent.childrenInFlight);
      }
      await options.recording?.();
      const { input, taskQueue } = childInput(runId, parent, options);
      return { child: { input: { ...input, parentRunId: args.parentRunId, depth: 1 }, taskQueue, agent: call?.name ?? '' } };
    },
    async settleChildRun(args) {
      const parent = record('settleChildRun', args.parentRunId, args);
      parent.childrenInFlight -= 1;
      const childOptions = runs.get(args.childRunId)?.options as ChildRunOptions | undefined;
      const settleFails = childOptions?.settleFails;
      if (settleFails) throw ApplicationFailure.nonRetryable(settleFails, 'RunRecordMissing'); // an activity that gives up
      const treeCostUsd = childOptions?.treeCostUsdAtEnd;
      return { isError: args.ended.status !== 'completed', ...(treeCostUsd !== undefined && { treeCostUsd }) };
    },
    async cancelUnstartedChild(args) {
      record('cancelUnstartedChild', args.parentRunId, args);
      return { cancelled: true };
    },
  };
  function add(run: FakeRun): FakeRun {
    runs.set(run.runId, run);
    return run;
  }

  return {
    activities,
    /** Registers a run's fake; start the workflow with the same run id (and it as owner). */
    add,
  };
}
