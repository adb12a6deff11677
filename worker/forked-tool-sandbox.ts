/**
 * The worker's side of a sandboxed tool call: fork the worker's own entry again (same file, arguments and Node
 * flags, so the child has the same tools, a TypeScript loader included) with TOOL_SANDBOX_ENV set, hand it the call
 * over IPC, pass its heartbeats on, and settle with its answer. Cancellation kills it. The child has no Temporal
 * connection and no database: a tool that kills it costs nothing but this call.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../shared/logger';
import { ToolError, ToolUnavailableError } from '../activities/tools/tool';
import { TOOL_SANDBOX_ENV, ToolSandboxDied, ToolSandboxFailed, type SandboxErrorKind, type SandboxMessage, type SandboxRequest, type ToolSandbox } from '../activities/tools/tool-sandbox';
import { beatEveryMs } from '../activities/heartbeat';

/** How to start this worker again: its entry file, the arguments after it and Node's own flags. */
export interface WorkerEntry {
  file: string;
  args: string[];
  execArgv: string[];
}

/** This process's entry, as `node [execArgv] file [args]` started it; none when it has no file (`node -e`, a REPL). */
export function currentEntry(): WorkerEntry | undefined {
  const file = process.argv[1];
  return file ? { file, args: process.argv.slice(2), execArgv: process.execArgv } : undefined;
}

export function forkedToolSandbox(entry: WorkerEntry, logger: Logger): ToolSandbox {
  return {
    run(call, io) {
      return new Promise<string>((resolve, reject) => {
        if (io.signal.aborted) return reject(io.signal.reason);
        // Its output goes where the worker's goes; the marker carries no secret (the call itself goes over IPC).
        let child: ChildProcess;
        try {
          child = fork(entry.file, entry.args, { execArgv: entry.execArgv, env: { ...process.env, [TOOL_SANDBOX_ENV]: String(process.pid) }, stdio: 'inherit' });
        } catch (err) {
          // No process to be had (EMFILE, ENOMEM): the sandbox failed, not the tool, which never ran.
          return reject(new ToolSandboxFailed(`could not start a process for ${call.tool}: ${err instanceof Error ? err.message : String(err)}`));
        }
        let started = false;
        let settled = false;
        // Once the tool runs, every message from the child is a sign of life; none for too long: its loop is blocked.
        let watchdog: NodeJS.Timeout | undefined;
        const stillAlive = () => {
          if (!started || io.unresponsiveAfterMs === undefined) return;
          clearTimeout(watchdog);
          watchdog = setTimeout(() => {
            kill(child);
            settle(() => reject(new ToolSandboxDied(call.tool, `stopped responding (no sign of life for ${io.unresponsiveAfterMs} ms) and was killed`)));
          }, io.unresponsiveAfterMs);
        };
        const settle = (then: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(watchdog);
          io.signal.removeEventListener('abort', cancel);
          then();
        };
        const cancel = () => {
          kill(child);
          settle(() => reject(io.signal.reason));
        };
        io.signal.addEventListener('abort', cancel, { once: true });
        child.on('message', (message: SandboxMessage) => {
          if (message.type === 'started') started = true;
          stillAlive();
          if (message.type === 'heartbeat') io.heartbeat(message.details);
          else if (message.type === 'output') settle(() => resolve(message.output));
          else if (message.type === 'error') settle(() => reject(toolErrorOf(message.kind, message.message)));
          else if (message.type === 'unserved') settle(() => reject(new ToolSandboxFailed(message.message)));
        });
        child.once('error', (err) => {
          kill(child);
          settle(() => reject(new ToolSandboxFailed(`could not start a process for ${call.tool}: ${err.message}`)));
        });
        // `close`, not `exit`: every message the child sent has been delivered by then.
        child.once('close', (code, signal) => {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          // Before `started` the tool never ran: the sandbox failed, not the call (the attempt is retried).
          if (!started) settle(() => reject(new ToolSandboxFailed(`the process for ${call.tool} ${how} before it ran the tool`)));
          else settle(() => reject(new ToolSandboxDied(call.tool, how)));
        });
        const aliveEveryMs = io.unresponsiveAfterMs === undefined ? undefined : beatEveryMs(io.unresponsiveAfterMs);
        send(child, { type: 'call', call, ...(aliveEveryMs !== undefined && { aliveEveryMs }) }, logger);
      });
    },
  };
}

function send(child: ChildProcess, request: SandboxRequest, logger: Logger): void {
  // A child already gone says so by its exit.
  child.send(request, (err) => {
    if (err) logger.warn({ err: err.message, tool: request.call.tool }, 'could not hand a tool call to its sandbox process');
  });
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The tool's error with its class, so the activity gives it the meaning it has in process. */
function toolErrorOf(kind: SandboxErrorKind, message: string): Error {
  if (kind === 'ToolUnavailableError') return new ToolUnavailableError(message);
  if (kind === 'ToolError') return new ToolError(message);
  return new Error(message);
}
