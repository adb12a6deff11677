/**
 * `longhaul dev <entry>`: what `npm start` starts — Temporal's dev server (unless TEMPORAL_ADDRESS
 * is set), the API and web UI — with the developer's worker entry served by a worker in a child
 * process (`longhaul worker <entry>`). When a file under the entry's folder changes, the worker
 * drains and starts again with the new code; runs go on (they are durable: a run's next step is
 * taken by the new worker). node_modules, dot-folders and DATA_DIR are not watched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startApiServer } from '../../api/server';
import { loadConfig, redactedConfig } from '../../shared/config';
import { openFoundation } from '../../shared/foundation';
import { createLogger, type Logger } from '../../shared/logger';
import { startTracing } from '../../shared/tracing';
import { startLocalTemporal } from '../../scripts/local-temporal';
import { restartsWorker } from './restart-filter';

/** Changes closer together than this are one restart (an editor saving several files, a git checkout). */
const RESTART_DEBOUNCE_MS = 300;

/** The worker child: `longhaul worker <entry>` as this very CLI runs it (with its Node flags, e.g. a loader). */
function spawnWorker(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const cli = require.main?.filename ?? process.argv[1]!;
  return spawn(process.execPath, [...process.execArgv, cli, 'worker', entry], { env, stdio: 'inherit' });
}

class WorkerSupervisor {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    private readonly killAfterMs: number,
  ) {}

  start(): void {
    const child = spawnWorker(this.entry, this.env);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!this.stopping && (code !== 0 || signal)) this.logger.warn({ code, signal }, 'the worker stopped; it starts again when a file changes');
        resolve();
      }),
    );
  }

  /** Drains the running worker (SIGTERM: in-flight activities finish), killing it if it outlasts its grace. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.killAfterMs);
      await this.exited;
      clearTimeout(timer);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    if (!this.stopping) this.start();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.stop();
  }
}

export async function runDev(entry: string): Promise<void> {
  const entryFile = path.resolve(entry);
  if (!fs.existsSync(entryFile)) throw new Error(`worker entry ${entry} is not a file`);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'longhaul-dev' });
  logger.debug({ config: redactedConfig(config) }, 'configuration');
  const tracing = startTracing(config, 'longhaul');
  const devServer = await startLocalTemporal(config, logger);

  const foundation = await openFoundation({ config, logger, role: 'api' }); // the worker is the child process
  const api = await startApiServer({ config, ...foundation, logger });

  // The child reads the same configuration, pointed at the dev server this process started.
  const env: NodeJS.ProcessEnv = { ...process.env, ...(devServer && { TEMPORAL_ADDRESS: devServer.address }) };
  const worker = new WorkerSupervisor(entryFile, env, logger, (config.activities.workerShutdownGraceSec + 10) * 1000);
  worker.start();

  const watched = path.dirname(entryFile);
  const dataDir = path.relative(watched, path.resolve(config.dataDir));
  const ignored = dataDir === '' || dataDir.startsWith('..') || path.isAbsolute(dataDir) ? [] : [dataDir];
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> = Promise.resolve();
  const watcher = fs.watch(watched, { recursive: true }, (_event, file) => {
    if (!file || !restartsWorker(file.toString(), ignored)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      logger.info({ file: file.toString() }, 'restarting the worker: a file changed (in-flight tool calls finish first; runs go on)');
      restarting = restarting.then(() => worker.restart());
    }, RESTART_DEBOUNCE_MS);
  });

  const lines = [
    '',
    '  Longhaul is running (dev)',
    `    Web UI and API   ${api.url}`,
    `    Temporal         ${devServer ? `dev server on ${devServer.address}` : config.temporal.address}${config.temporal.uiUrl ? ` (UI ${config.temporal.uiUrl})` : ''}`,
    `    Worker           ${path.relative(process.cwd(), entryFile) || entryFile}, restarted when a file under ${path.relative(process.cwd(), watched) || '.'} changes`,
    `    Database         ${foundation.store.opened.location}`,
    '',
    `  Open ${api.url} and start a run. Ctrl-C stops everything; runs carry on at the next start.`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      watcher.close();
      clearTimeout(timer);
      await restarting;
      await worker.shutdown();
      await api.close();
      await foundation.close();
      await tracing.shutdown();
      await devServer?.stop();
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
