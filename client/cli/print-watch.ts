/**
 * `longhaul watch` and `run --watch`: print a run as it happens — the model's text as it streams,
 * tool calls, requests waiting for a human (with the command that decides them), the end — or, with
 * --json, every watch item as one JSON line. Returns the exit code the run's ending deserves.
 */
import type { LonghaulClient, RunEvent } from '..';

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
  let ending: RunEvent | undefined;
  for await (const item of client.runs.watch(runId, { signal, after })) {
    if (io.json) {
      io.out(JSON.stringify(item));
      if (item.type === 'event') ending = item.event;
      continue;
    }
    switch (item.type) {
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
        if (line) {
          endText();
          io.out(line);
        }
        // The run's structured output (agents with an output schema): what a script or a person came for.
        if (item.event.type === 'run.completed' && item.event.data.output !== undefined) io.out(JSON.stringify(item.event.data.output, null, 2));
        break;
      }
    }
  }
  endText();
  if (signal?.aborted) return 130;
  return ending?.type === 'run.completed' ? 0 : 1;
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
    default:
      return null;
  }
}
