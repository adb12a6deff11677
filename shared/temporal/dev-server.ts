/**
 * Runs Temporal's dev server (`temporal server start-dev`) for `npm start`, `npm run temporal:dev`
 * and the tests: on loopback, with Longhaul's search attributes registered, optionally persisted
 * to a SQLite file so runs survive a restart of everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';

export interface DevServerOptions {
  port: number;
  /** Web UI port; 0 = no UI. */
  uiPort: number;
  /** Persist to this file; omitted = in memory. */
  dbFile?: string;
  /** Where the server's own log goes; omitted = discarded. */
  logFile?: string;
  namespace?: string;
  /** 'latency' (default): LATENCY_TUNING. 'stock': the dev server as shipped (benchmarks compare). */
  tuning?: 'latency' | 'stock';
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The server process, when we spawned one (its pid is what tests stop). */
  pid?: number;
  stop(): Promise<void>;
}

/**
 * Dynamic config for latency. The stock dev server reads its transfer queue 20 times a second, so
 * every task dispatch waits ~40 ms on average before it starts; a run step takes several dispatches.
 * Polling far more often costs an idle dev server next to nothing. Visibility (search attributes,
 * listing runs) gets the same; eager activity execution hands a worker that completes a workflow
 * task its next activity in the same round trip. `npm run bench -- steps` measures the difference.
 */
export const LATENCY_TUNING: Record<string, number | boolean> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
};

export function devServerArgs(opts: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.tuning !== 'stock') {
    for (const [key, value] of Object.entries(LATENCY_TUNING)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  if (opts.uiPort > 0) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const a of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${a.name}=${a.cliType}`);
  return args;
}

/** Waits until the frontend answers, or the process dies, or the timeout passes. */
async function waitUntilServing(address: string, child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode}`);
    try {
      // No retry interceptor: a readiness probe must fail fast, and leave no retry timer behind once closed.
      const connection = await Connection.connect({ address, connectTimeout: 1000, interceptors: [] });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server did not start within ${timeoutMs / 1000}s: ${String(lastError)}`);
}

/**
 * `cliPath`: the Temporal CLI to run, as the caller found it (scripts/temporal-cli.js finds one);
 * undefined: the Temporal SDK downloads the dev server instead.
 */
export async function startDevServer(opts: DevServerOptions & { cliPath: string | undefined; log?: (msg: string) => void }): Promise<DevServer> {
  const log = opts.log ?? (() => undefined);
  const cli = opts.cliPath;
  const address = `127.0.0.1:${opts.port}`;
  if (opts.dbFile) fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });

  if (!cli) return startWithSdkDownload(opts, address);

  const args = devServerArgs(opts);
  log(`starting ${cli} ${args.join(' ')}`);
  const logFd = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(cli, args, { stdio: ['ignore', logFd, logFd], detached: false });
  if (typeof logFd === 'number') fs.closeSync(logFd);
  try {
    await waitUntilServing(address, child, 120_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: opts.uiPort > 0 ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Last resort where no CLI could be found or built: the SDK downloads the dev server. */
async function startWithSdkDownload(opts: DevServerOptions, address: string): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: opts.port,
      uiPort: opts.uiPort > 0 ? opts.uiPort : undefined,
      ui: opts.uiPort > 0,
      dbFilename: opts.dbFile,
      searchAttributes: SEARCH_ATTRIBUTES.map((a) => ({ name: a.name, type: a.type })),
      extraArgs: opts.tuning === 'stock' ? [] : Object.entries(LATENCY_TUNING).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
    },
  });
  return {
    address,
    uiUrl: opts.uiPort > 0 ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
