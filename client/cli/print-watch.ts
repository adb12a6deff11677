/**
 * `longhaul watch` and `run --watch`: print a run as it happens — the model's text as it streams,
 * tool calls, requests waiting for a human (with the command that decides them), the end — and the
 * child runs its sub-agents start, each followed as it starts and printed indented under the parent,
 * line by line with its agent's name (two children writing at once do not mix within a line). With
 * --json, every watch item as one JSON line (a child's as a `child` item naming its run). Ends when the
 * watched run ends; returns the exit code its ending deserves. Access lost while watching ends it with a
 * message that says so and an exit code of its own: the token stopped working (revoked, expired: 5), or the
 * caller's roles changed so that they may no longer see the run (6).
 */
import { LonghaulError, type ChildWatchItem, type LonghaulClient, type RunEvent } from '..';
import { EXIT } from './exit-codes';

export async function printWatch(
  client: LonghaulClient,
  runId: string,
  io: { json: boolean; out: (line: string) => void; write: (text: string) => void; err: (line: string) => void },
  signal?: AbortSignal,
  after = 0,
): Promise<number> {
  let inText = false;
  const endText = () => {
    if (inText) io.write('\n');
    inText = false;
  };
  /** A line of the parent's: the text it is streaming is ended first. */
  const out = (line: string) => {
    endText();
    io.out(line);
  };
  const children = new ChildLines(out);
  let ending: RunEvent | undefined;
  /** Something arrived: a 401 from here on is a credential that ended while watching, not one refused at the start. */
  let watching = false;
  try {
    for await (const item of client.runs.watch(runId, { signal, after, children: true })) {
      watching = true;
      if (io.json) {
        io.out(JSON.stringify(item));
        if (item.type === 'event') ending = item.event;
        continue;
      }
      switch (item.type) {
        case 'child':
          children.print(item, io.err);
          break;
        case 'text':
          io.write(item.delta);
          inText = true;
          break;
        case 'text.reset':
          endText();
          io.err('(the model call is being retried; its text starts over)');
          break;
        case 'reconnecting':
          endText();
          io.err(`(connection lost: ${item.reason}; reconnecting, attempt ${item.attempt})`);
          break;
        case 'snapshot':
          break;
        case 'event': {
          ending = item.event;
          const line = describe(runId, item.event);
          if (line) out(line);
          // The run's structured output (agents with an output schema): what a script or a person came for.
          if (item.event.type === 'run.completed' && item.event.data.output !== undefined) out(JSON.stringify(item.event.data.output, null, 2));
          break;
        }
      }
    }
  } catch (err) {
    const lost = err instanceof LonghaulError ? accessLost(err, watching) : undefined;
    if (!lost) throw err;
    children.flush();
    endText();
    io.err(io.json ? JSON.stringify({ error: { status: lost.err.status, code: lost.err.code, message: lost.err.message } }) : lost.message);
    return lost.exit;
  }
  children.flush();
  endText();
  if (signal?.aborted) return 130;
  return ending?.type === 'run.completed' ? EXIT.ok : EXIT.runFailed;
}

/** The watch ended because access ended: what to say, and the exit code. Undefined for any other error. */
function accessLost(err: LonghaulError, watching: boolean): { err: LonghaulError; message: string; exit: number } | undefined {
  if (err.code === 'run_access_ended') {
    return { err, message: `error: your roles changed: ${err.message} (${err.code}); the watch has stopped`, exit: EXIT.runAccessEnded };
  }
  if (err.status === 401 && watching) {
    return { err, message: `error: your token stopped working while watching: ${err.message} (${err.code}); set LONGHAUL_TOKEN to a new one`, exit: EXIT.credentialEnded };
  }
  return undefined;
}

/**
 * The children's output, indented two spaces a level under the parent's and prefixed with the agent's name.
 * Streamed text is held until its line is whole (or its message final), so each printed line is one child's.
 */
class ChildLines {
  /** Each child's text of the line not yet printed, with the prefix of its lines. */
  private readonly partial = new Map<string, { prefix: string; text: string }>();

  constructor(private readonly out: (line: string) => void) {}

  print(child: ChildWatchItem, err: (line: string) => void): void {
    const prefix = `${'  '.repeat(child.depth)}${child.agent} │ `;
    const lines = (text: string) => {
      for (const line of text.split('\n')) this.out(prefix + line);
    };
    const { item } = child;
    switch (item.type) {
      case 'text': {
        const text = (this.partial.get(child.runId)?.text ?? '') + item.delta;
        const cut = text.lastIndexOf('\n');
        if (cut >= 0) lines(text.slice(0, cut));
        this.partial.set(child.runId, { prefix, text: text.slice(cut + 1) });
        break;
      }
      case 'text.reset':
        this.partial.delete(child.runId);
        err(`${prefix}(the model call is being retried; its text starts over)`);
        break;
      case 'reconnecting':
        err(`${prefix}(connection lost: ${item.reason}; reconnecting, attempt ${item.attempt})`);
        break;
      case 'snapshot':
        break;
      case 'event': {
        // A message is final with its event: the rest of its text first.
        if (item.event.type === 'llm.message') this.flushOne(child.runId);
        const line = describe(child.runId, item.event);
        if (line) lines(line);
        break;
      }
    }
  }

  private flushOne(runId: string): void {
    const rest = this.partial.get(runId);
    this.partial.delete(runId);
    if (rest?.text) this.out(rest.prefix + rest.text);
  }

  /** The watch ended: whatever a child had not finished a line of. */
  flush(): void {
    for (const runId of [...this.partial.keys()]) this.flushOne(runId);
  }
}

/** One line for the events a person watching wants to see; null for the rest. */
function describe(runId: string, e: RunEvent): string | null {
  switch (e.type) {
    case 'tool.started':
      return `→ ${e.data.name} ${JSON.stringify(e.data.input).slice(0, 200)}`;
    case 'tool.completed':
      return `  ✓ ${e.data.name} (${e.data.bytes} bytes)`;
    case 'tool.failed':
      return `  ✗ ${e.data.name}: ${e.data.error.slice(0, 200)}`;
    case 'approval.requested':
      return `⏸ waiting for approval ${e.data.approvalId}: ${e.data.reason}\n  longhaul approve ${runId} ${e.data.approvalId}   |   longhaul reject ${runId} ${e.data.approvalId}`;
    case 'approval.decided':
      return `  ${e.data.decision} by ${e.data.by ?? 'someone'}`;
    case 'approval.expired':
      return '  the approval expired (rejected)';
    case 'input.requested':
      return `? ${e.data.question}\n  longhaul answer ${runId} "<your answer>"`;
    case 'limit.exceeded':
      return `! limit reached: ${e.data.limit} (${e.data.value})`;
    case 'run.completed':
      return `✔ completed after ${e.data.turns} turns ($${e.data.usage.costUsd.toFixed(4)})`;
    case 'run.failed':
      return `✘ failed: ${e.data.error.message} (${e.data.error.code})`;
    case 'run.cancelled':
      return `✘ cancelled${e.data.reason ? `: ${e.data.reason}` : ''}`;
    case 'run.upgraded':
      return `↑ agent ${e.data.agent} upgraded from ${e.data.from} to ${e.data.to}`;
    case 'user.message':
      return `» ${e.data.by}: ${e.data.text}`;
    case 'subagent.started':
      return `⇢ sub-agent ${e.data.agent} started: run ${e.data.childRunId}`;
    case 'subagent.completed':
      return `⇠ sub-agent ${e.data.agent} completed ($${e.data.costUsd.toFixed(4)})`;
    case 'subagent.failed':
      return `⇠ sub-agent ${e.data.agent} ${e.data.status}: ${e.data.error.slice(0, 200)}`;
    default:
      return null;
  }
}
