/**
 * Real worker and API processes for crash tests, run from the TypeScript sources with tsx. Each
 * helper returns the child's pid; tests stop exactly the processes they started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait';

const ROOT = path.join(__dirname, '..', '..');

export interface ChildHandle {
  pid: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

function start(entry: string, env: Record<string, string>, readyLine: RegExp, nodeArgs: string[] = [], ready?: () => Promise<boolean>): Promise<ChildHandle> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: env.LOG_LEVEL && env.LOG_LEVEL !== 'silent' ? env.LOG_LEVEL : 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: ChildHandle = {
    pid: child.pid!,
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const isReady = async () => (ready ? ready().catch(() => false) : readyLine.test(out));
  return waitFor(async () => child.exitCode !== null || (await isReady()), { timeoutMs: 60_000, what: `${entry} to start` }).then(() => {
    if (child.exitCode !== null) throw new Error(`${entry} exited early (${child.exitCode}):\n${out}`);
    return handle;
  }, (err: unknown) => {
    // Not ready in time: stopped, not left running after the caller gave up on it.
    child.kill('SIGKILL');
    throw err;
  });
}

/**
 * A worker process; with the test tools (test/support/test-tools.ts) unless `plain`; `entry`: another worker entry
 * (a definition of agents). `nodeArgs` go to node itself (a benchmark's `--cpu-prof`, which NODE_OPTIONS does not take).
 */
export function startWorkerProcess(env: Record<string, string>, opts: { plain?: boolean; entry?: string; nodeArgs?: string[] } = {}): Promise<ChildHandle> {
  return start(opts.entry ?? (opts.plain ? 'worker/main.ts' : 'test/support/test-worker.ts'), env, /worker polling/, opts.nodeArgs);
}

/**
 * An API process; `nodeArgs` go to node itself (a benchmark's `--cpu-prof`); `ready`: how to tell it listens when
 * its log will not say (a LOG_LEVEL above info), e.g. its health endpoint answering.
 */
export function startApiProcess(env: Record<string, string>, opts: { nodeArgs?: string[]; ready?: () => Promise<boolean> } = {}): Promise<ChildHandle> {
  return start('api/main.ts', env, /API listening/, opts.nodeArgs, opts.ready);
}
