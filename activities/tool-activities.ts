/**
 * Tool steps. `runTool` executes one tool call under its idempotency key: a call the ledger has
 * completed returns its stored result without running; a call found started-but-not-completed
 * (the worker died mid-effect) is re-sent only if the tool is idempotent or read-only —
 * otherwise the workflow is told, so it can ask a human instead of guessing — and, when an earlier attempt vanished
 * (being suspect of having killed that worker: tools/suspect-calls.ts), runs in a sandbox process of its own when the
 * worker has one (tools/tool-sandbox.ts). Before any effect it
 * checks the approval itself (`approval-gate.ts`): by this worker's own definition of the tool, a call
 * that needs one runs only with an approved decision recorded for exactly this call.
 */
import { activityInfo, ApplicationFailure, Context } from '@temporalio/activity';
import { approvalRequiredReason, type ApprovalPolicy, type Risk, type ToolOutcome } from '../contract/run';
import type { EventDraft, ToolRefusal } from '../contract/events';
import type { ActivityDeps } from './deps';
import { rethrowIfCancelled } from './heartbeat';
import type { ToolResultContent } from './model/context-builder';
import type { AssistantBlock } from './model/model-adapter';
import { preview, publishEvents } from './publish';
import { inSpan } from './spans';
import { createApprovalGate } from './tools/approval-gate';
import { ToolUnavailableError } from './tools/tool';
import { serializeOutput } from './tools/tool-output';
import { ToolSandboxDied, ToolSandboxFailed, type ToolSandbox } from './tools/tool-sandbox';
import { createSuspectCalls } from './tools/suspect-calls';
import { Workspace, withoutHostPaths } from './tools/workspace';
import { WorkspaceRefused } from '../shared/workspaces/workspace-sync';
import { recordRestore } from './workspace-events';
import { FailureType, type ApprovalRequiredDetail, type InDoubtCause } from '../contract/failures';
import { eventKeys, ledgerKeys, messageKeys } from '../contract/keys';
import type { RecordToolResultArgs, RunToolArgs } from '../contract/activity-io';
import { redactText } from '../shared/redact';
import type { RunInfo } from './agents/agent-definition';
import { DEFAULT_AGENT } from '../contract/agents';
import { createRunAgents, runInfoOf, type RunAgent } from './agents/run-agent';
import type { RunRecord } from '../shared/store/runs';
import type { ToolRegistry } from './tools/registry';

/** Largest tool output copied into an event for live viewers; the message keeps the whole. */
const EVENT_OUTPUT_MAX_CHARS = 64 * 1024;
/** Runs that name no agent remembered per worker (the latest; a run's record is small). */
const REMEMBERED_RUNS = 1000;

/** The call may or may not have taken effect and cannot safely be re-sent: a human decides (not retried). */
function inDoubt(message: string, cause: InDoubtCause): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.EffectInDoubt, nonRetryable: true, details: [cause] });
}

/**
 * A suspect call (an earlier attempt's worker was lost while running it) killed its own sandbox process too: two
 * processes lost to one call. The run stops with `tool_worker_lost` at once (not retried: a third process would
 * only die the same way) rather than hand the model an error and carry on.
 */
function killedItsSandbox(died: ToolSandboxDied): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ToolWorkerLost,
    nonRetryable: true,
    message: `${died.tool} killed its process: its worker was lost while running it, and its re-run in a process of its own ${died.how} before it answered, so the run stopped rather than lose more processes to it`,
  });
}

/**
 * A tool call retried after an attempt that never finished, with no sandbox to run it in, waits (heartbeating, as every attempt does) for a random 50–100 % of the heartbeat
 * timeout before it runs. Its retry is due at the same moment as those of every other call its worker was running
 * (same timeout, same backoff), and they land on the same surviving worker: a tool that kills its worker would take
 * them down again, attempt after attempt, until they too ran out of attempts. Waiting lets the others (model calls
 * first) finish first, and the random share keeps two retried tool calls from running in step again.
 */
async function standBackAfterLostAttempt(): Promise<void> {
  const ctx = Context.current();
  if (ctx.info.isLocal || !ctx.info.heartbeatTimeoutMs) return; // replay-only quick steps: no worker of their own to lose
  await ctx.sleep(ctx.info.heartbeatTimeoutMs * (0.5 + Math.random() / 2)); // rejects when the attempt is cancelled
}

function capBytes(text: string, maxBytes: number): { text: string; bytes: number; truncated: boolean } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, bytes, truncated: false };
  const cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return { text: `${cut}\n… [output truncated: ${bytes} bytes, limit ${maxBytes}]`, bytes, truncated: true };
}

export function createToolActivities(deps: ActivityDeps) {
  const { store, bus } = deps;
  const gate = createApprovalGate(store, deps.settings.config.approvals.minPolicy);
  const agents = createRunAgents(deps);
  const suspects = createSuspectCalls(store.effects, deps.logger);

  /**
   * Why a run of an agent cannot make this call here, if it cannot: the tool is not in the version the run is
   * pinned to (the model named one it was not offered), or this worker's current code no longer has it.
   */
  function unavailableTool(agent: RunAgent, name: string, tools: ToolRegistry): string | null {
    const { version } = agent.version;
    if (!agent.version.toolsByName.has(name)) {
      return `Unknown tool "${name}": it is not a tool of this run's agent (${agent.version.name}, version ${version}). Available tools: ${[...agent.version.toolsByName.keys()].join(', ') || 'none'}.`;
    }
    if (!tools.get(name)) {
      return `The tool "${name}" of this run's agent (${agent.version.name}, version ${version}) is not in the code of the worker that runs it any more, so the call did not run.`;
    }
    return null;
  }

  async function loadToolCall(runId: string, turn: number, toolUseId: string) {
    const message = await store.messages.get(runId, messageKeys.assistant(turn));
    const block = (message?.content as AssistantBlock[] | undefined)?.find((b) => b.type === 'tool_use' && b.id === toolUseId);
    if (!block || block.type !== 'tool_use') {
      throw ApplicationFailure.nonRetryable(`no tool call ${toolUseId} in turn ${turn} of run ${runId}`, FailureType.ToolCallNotFound);
    }
    return block;
  }

  async function writeResult(args: RecordToolResultArgs & { ledgerKey?: string; outcome?: ToolOutcome }): Promise<void> {
    const key = eventKeys.toolResult(args.toolUseId);
    const event: EventDraft =
      args.eventType === 'tool.failed' ? { key, type: args.eventType, data: args.eventData } : { key, type: args.eventType, data: args.eventData };
    const stored: ToolResultContent = { content: args.content, isError: args.isError };
    const message = { runId: args.runId, key: messageKeys.toolResult(args.toolUseId), turn: args.turn, kind: 'tool_result' as const, toolUseId: args.toolUseId, content: stored };
    const events = await store.writeWithEvent(args.runId, event, [{ message }, ...(args.ledgerKey ? [{ completed: { key: args.ledgerKey, result: args.outcome } }] : [])]);
    publishEvents(bus, args.runId, events);
  }

  type ToolCall = Awaited<ReturnType<typeof loadToolCall>>;

  /** Records why this worker would not run the call (no effect was taken). */
  async function recordRefusal(runId: string, turn: number, toolUseId: string, data: { name: string; risk: Risk; policy: ApprovalPolicy; reason: ToolRefusal }) {
    const events = await store.events.append(runId, [{ key: eventKeys.toolRefused(toolUseId, data.reason), type: 'tool.refused', data: { turn, toolUseId, ...data } }]);
    publishEvents(bus, runId, events);
    deps.logger.warn({ runId, turn, toolUseId, tool: data.name, risk: data.risk, policy: data.policy, reason: data.reason }, 'tool call refused: no approval recorded for it');
  }

  /** Runs that name no agent, as read once by this worker: nothing a tool call uses of them changes. */
  const plainRuns = new Map<string, RunRecord>();

  /**
   * The run as a tool call needs it. A run of an agent is read at every call (an upgrade moves its version); one
   * that names none is read once per worker, like the model call's (its owner, goal, input, metadata and policy
   * never change). An unknown run is not remembered: it is read again, and meanwhile fails closed.
   */
  async function runRecordOf(runId: string): Promise<RunRecord | undefined> {
    const remembered = plainRuns.get(runId);
    if (remembered) return remembered;
    const record = await store.runs.get(runId);
    if (record && record.agent === null) {
      if (plainRuns.size >= REMEMBERED_RUNS) plainRuns.delete(plainRuns.keys().next().value!);
      plainRuns.set(runId, record);
    }
    return record;
  }

  async function runTool({ runId, turn, toolUseId, rerunInDoubt }: RunToolArgs): Promise<ToolOutcome> {
    const call = await loadToolCall(runId, turn, toolUseId);
    const record = await runRecordOf(runId);
    // The run's agent: its tools by this worker's current code, its version's recorded risks and overrides.
    const agent = record ? await agents.of(record) : null;
    const tools = agents.registryOf(agent);
    const tool = tools.get(call.name);
    // This worker's own reading, whatever the worker that made the model call saw (fail closed: unknown is riskiest).
    const risk = agents.riskOf(agent, call.name, call.input);
    const key = ledgerKeys.toolCall(runId, turn, toolUseId);

    // A call that cannot run here is told to the model as it is; nothing runs, so nothing needs an approval.
    const missing = agent && unavailableTool(agent, call.name, tools);
    if (missing) return recordUnavailable({ runId, turn, toolUseId, key, name: call.name, message: missing });

    // Checked before the ledger is touched, so a refused call leaves no trace of having started.
    const toCheck = { runId, turn, toolUseId, name: call.name, input: call.input };
    const { policy, allowed } = await gate.check(toCheck, risk, agents.policyOf(agent, call.name, record?.approvals ?? 'all'));
    if (!allowed) {
      // A call already done returns its result (nothing runs again); only one not done yet is refused.
      const done = await store.effects.get(key);
      if (done?.status === 'completed') return { ...(done.result as ToolOutcome), replayed: true };
      await recordRefusal(runId, turn, toolUseId, { name: call.name, risk, policy, reason: 'approval_required' });
      const detail: ApprovalRequiredDetail = { risk, policy };
      throw ApplicationFailure.create({
        message: `${approvalRequiredReason(call.name, risk, policy)}; no approval of this call at this risk is recorded, so it did not run`,
        type: FailureType.ApprovalRequired,
        nonRetryable: true,
        details: [detail],
      });
    }

    const toolStarted: EventDraft = { key: eventKeys.toolStarted(toolUseId), type: 'tool.started', data: { turn, toolUseId, name: call.name, input: call.input, risk } };
    // The workspace is this run's current version here, and stays so until the result is recorded. Made so before
    // the ledger is touched: its restore (rare: a worker that does not hold the current version) is told first, and
    // the ledger's start and `tool.started` then go in one transaction. A restore that fails leaves no ledger entry,
    // so its retry is a new call rather than one in doubt.
    return deps.workspaces.using(runId, async () => {
      await recordRestore(deps, runId, await deps.workspaces.prepare(runId));
      const entry = { runId, kind: 'tool' as const, name: call.name };
      // A call not begun before: its start and `tool.started` at once (one statement on Postgres, for most runs).
      const begun = await store.beginWithEvent(key, entry, toolStarted);
      const { ledger, started } = begun
        ? { ledger: { state: 'new' as const }, started: begun }
        : await store.transaction(async (tx) => {
            const entered = await tx.effects.begin(key, entry);
            // Only a new call starts here; one in doubt says so once its re-run is decided, below.
            return { ledger: entered, started: entered.state === 'new' ? await tx.events.append(runId, [toolStarted]) : [] };
          });
      publishEvents(bus, runId, started);
      if (ledger.state === 'completed') return { ...(ledger.result as ToolOutcome), replayed: true };
      const attempt = suspects.begun(key, ledger, Context.current().info.heartbeatTimeoutMs);
      try {
        const outcome = await attemptCall(ledger.state === 'in_doubt', attempt.suspect);
        attempt.done();
        return outcome;
      } catch (err) {
        const runStopped = err instanceof ApplicationFailure && err.type === FailureType.ToolWorkerLost;
        await attempt.failed(err, { cancelled: Context.current().cancellationSignal.aborted, runStopped });
        throw err;
      }
    });

    async function attemptCall(wasInDoubt: boolean, suspect: boolean): Promise<ToolOutcome> {
      const safeToRerun = !tool || risk === 'read' || tools.isIdempotent(call.name, call.input);
      if (wasInDoubt) {
        if (!safeToRerun) {
          // Re-run only on a human's word, and only when the database holds it (not merely the caller's say-so);
          // each word once: the approval is spent before the effect, so a retry of an attempt cut off again asks again.
          const rerunApproved = rerunInDoubt === true && (await gate.spend(toCheck, 'effect_in_doubt'));
          if (rerunInDoubt && !rerunApproved) await recordRefusal(runId, turn, toolUseId, { name: call.name, risk, policy, reason: 'rerun_not_approved' });
          if (!rerunApproved) throw inDoubt(`${call.name} was interrupted after it started; it may or may not have taken effect`, 'attempt_lost');
        }
        // An earlier attempt vanished: its worker was lost, perhaps to this very tool. It runs in a process of its
        // own, which is all it can take down; without one, stand back before running it here. (One whose attempts
        // all ended in a live worker that knew they failed is not suspect: ./tools/suspect-calls.ts.)
        if (suspect && !deps.toolSandbox) await standBackAfterLostAttempt();
        publishEvents(bus, runId, await store.events.append(runId, [toolStarted]));
      }
      const sandbox = suspect ? deps.toolSandbox : undefined;
      return execute({ runId, turn, toolUseId, key, call, tool, tools, safeToRerun, record, agentName: agent?.served.name ?? DEFAULT_AGENT, sandbox });
    }
  }

  /** A call of a run's agent that this worker cannot make: a tool error for the model, recorded once (a retry writes the same). */
  async function recordUnavailable(args: { runId: string; turn: number; toolUseId: string; key: string; name: string; message: string }): Promise<ToolOutcome> {
    const { runId, turn, toolUseId, name, message } = args;
    const done = await store.effects.get(args.key);
    if (done?.status === 'completed') return { ...(done.result as ToolOutcome), replayed: true };
    const bytes = Buffer.byteLength(message, 'utf8');
    await writeResult({
      runId,
      turn,
      toolUseId,
      content: message,
      isError: true,
      eventType: 'tool.failed',
      eventData: { turn, toolUseId, name, bytes, truncated: false, error: message },
    });
    return { isError: true, replayed: false, bytes };
  }

  async function execute(args: {
    runId: string;
    turn: number;
    toolUseId: string;
    key: string;
    call: ToolCall;
    tool: ReturnType<ToolRegistry['get']>;
    tools: ToolRegistry;
    safeToRerun: boolean;
    record: RunRecord | undefined;
    /** The served agent whose tools the call's are (a sandbox finds the tool by it). */
    agentName: string;
    /** Where the call runs, when not in this process: it is suspect. */
    sandbox: ToolSandbox | undefined;
  }): Promise<ToolOutcome> {
    const { runId, turn, toolUseId, key, call, tool, tools, safeToRerun, record, sandbox } = args;
    const sync = deps.workspaces;
    const workspace = new Workspace(sync.dir(runId), deps.settings.workspace);
    const { attempt } = activityInfo();

    let output: string;
    let isError = false;
    const run: RunInfo = record ? runInfoOf(record) : { runId, owner: '', agent: DEFAULT_AGENT, input: null, goal: '', metadata: null };
    if (!tool) {
      isError = true;
      output = `Unknown tool "${call.name}". Available tools: ${tools.names().join(', ')}.`;
    } else {
      const parsed = tool.input.safeParse(call.input);
      if (!parsed.success) {
        isError = true;
        output = `Invalid input for ${call.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`;
      } else {
        const ctx = Context.current();
        const started = Date.now();
        const spanAttributes = { 'longhaul.tool': call.name, 'longhaul.run_id': runId, 'longhaul.turn': turn, 'longhaul.idempotency_key': key, 'longhaul.attempt': attempt };
        try {
          const heartbeat = (details?: unknown) => {
            if (!ctx.info.isLocal) ctx.heartbeat(details);
          };
          const result = await inSpan('tool.call', { ...spanAttributes, ...(sandbox && { 'longhaul.sandboxed': true }) }, async (span) => {
            const inProcess = () =>
              tool.run(parsed.data, {
                runId,
                run,
                deps: deps.workerDeps,
                idempotencyKey: key,
                signal: ctx.cancellationSignal,
                heartbeat,
                workspace,
                logger: deps.logger.child({ runId, tool: call.name, toolUseId, attempt }),
              });
            const value = sandbox
              ? await sandbox
                  .run(
                    { agent: args.agentName, tool: call.name, input: call.input, runId, run, idempotencyKey: key, workspaceDir: workspace.root, workspaceLimits: deps.settings.workspace, toolUseId, attempt },
                    { signal: ctx.cancellationSignal, heartbeat, ...(ctx.info.heartbeatTimeoutMs && { unresponsiveAfterMs: ctx.info.heartbeatTimeoutMs }) },
                  )
                  .catch(async (err: unknown) => {
                    // No sandbox to be had here (an entry that cannot be forked as it was started): as without one.
                    if (!(err instanceof ToolSandboxFailed)) throw err;
                    deps.logger.warn({ runId, toolUseId, tool: call.name, err: err.message }, 'no sandbox process for a suspect tool call: it runs in the worker, after a pause');
                    await standBackAfterLostAttempt();
                    return inProcess();
                  })
              : await inProcess();
            span.setAttribute('longhaul.outcome', 'ok');
            return value;
          });
          output = serializeOutput(result);
        } catch (err) {
          rethrowIfCancelled(err);
          if (err instanceof ToolSandboxDied) {
            deps.metrics.tool({ tool: call.name, durationMs: Date.now() - started, failed: true });
            deps.logger.error({ runId, turn, toolUseId, tool: call.name, attempt, how: err.how }, 'a suspect tool call killed its sandbox process: the run stops');
            throw killedItsSandbox(err);
          }
          // The system behind the tool is gone mid-call: a call safe to re-send is retried under the ledger; any
          // other is in doubt now, and the run is told so (and why) at once rather than after a retry finds it.
          if (err instanceof ToolUnavailableError) {
            deps.metrics.tool({ tool: call.name, durationMs: Date.now() - started, failed: true });
            // Redacted: the message goes into Temporal's history and the run's events (a tool's own code wrote it).
            const reason = redactText(err.message);
            if (safeToRerun) throw ApplicationFailure.retryable(reason, FailureType.ToolUnavailable);
            throw inDoubt(`${call.name} was cut off: ${reason}; it may or may not have taken effect`, 'tool_unavailable');
          }
          // Any failure of the tool itself is the model's to see and work around; it can try again.
          // Redacted: an error can name a URL with its credentials (a failed fetch).
          isError = true;
          output = redactText(err instanceof Error ? err.message : String(err));
        }
        deps.metrics.tool({ tool: call.name, durationMs: Date.now() - started, failed: isError });
      }
    }

    // Durable before the result is recorded: a worker that dies after this never loses a completed tool's files.
    try {
      await sync.save(runId);
    } catch (err) {
      if (!(err instanceof WorkspaceRefused)) throw err;
      isError = true;
      output = `${output ? `${output}\n` : ''}${err.message}`;
    }
    // Tool errors name workspace paths, never where the worker keeps them.
    output = withoutHostPaths(output, workspace.root);

    const capped = capBytes(output, deps.settings.toolOutputMaxBytes);
    // Ran on the shared queue and the workspace holds something: say which worker holds it now, so the run
    // sends its next calls there. (An empty desk is not worth losing eager dispatch on the shared queue for.)
    const moved = activityInfo().taskQueue !== sync.holder && sync.holdsContent(runId);
    const outcome: ToolOutcome = { ...(moved && { worker: sync.holder }), isError, replayed: false, bytes: capped.bytes };
    const about = { turn, toolUseId, name: call.name, bytes: capped.bytes, truncated: capped.truncated };
    await writeResult({
      runId,
      turn,
      toolUseId,
      content: capped.text,
      isError,
      ledgerKey: key,
      outcome,
      ...(isError
        ? { eventType: 'tool.failed', eventData: { ...about, error: preview(capped.text, 4096) } }
        : { eventType: 'tool.completed', eventData: { ...about, output: preview(capped.text, EVENT_OUTPUT_MAX_CHARS) } }),
    });
    return outcome;
  }

  /** A result the workflow decided on without running the tool (rejected, expired, answered). */
  async function recordToolResult(args: RecordToolResultArgs): Promise<void> {
    await writeResult(args);
  }

  return { runTool, recordToolResult };
}
