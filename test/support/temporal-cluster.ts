/**
 * Temporal's real server on Postgres, started the way docker-compose.yml starts it — the same config
 * template (deploy/temporal/config/longhaul.yaml), dynamic config and setup script
 * (deploy/temporal/setup.sh) — from binaries built from Temporal's Go module
 * (scripts/temporal-server.js). Its own two databases, dropped at the end; it can be killed and
 * started again on the same databases.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { freeLowPort } from './ports';
import { dropDatabaseForced } from './postgres';
import { waitFor } from './wait';

const ROOT = path.join(__dirname, '..', '..');
const DEPLOY = path.join(ROOT, 'deploy', 'temporal');
const { findTemporalServer } = require('../../scripts/temporal-server.js') as { findTemporalServer: () => { server: string; sqlTool: string; schemaDir: string } | undefined };

const PORT_SETTINGS = [
  'FRONTEND_GRPC_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'FRONTEND_HTTP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

export class TemporalCluster {
  private child?: ChildProcess;
  private out = '';

  private constructor(
    private readonly env: Record<string, string>,
    private readonly server: string,
    private readonly adminUrl: string,
    private readonly databases: string[],
  ) {}

  get address(): string {
    return `127.0.0.1:${this.env.FRONTEND_GRPC_PORT}`;
  }

  output(): string {
    return this.out;
  }

  /** Databases and schema, the server, then the namespace: ready for workers. */
  static async start(opts: { adminUrl: string; temporalCli: string; namespace?: string }): Promise<TemporalCluster> {
    const found = findTemporalServer();
    if (!found) throw new Error('the Temporal server could not be found or built (needs Go): see scripts/temporal-server.js');
    const admin = new URL(opts.adminUrl);
    const suffix = crypto.randomBytes(4).toString('hex');
    const taken = new Set<number>();
    const env: Record<string, string> = {
      POSTGRES_SEEDS: admin.hostname,
      DB_PORT: admin.port || '5432',
      POSTGRES_USER: decodeURIComponent(admin.username),
      POSTGRES_PWD: decodeURIComponent(admin.password),
      TEMPORAL_DB: `temporal_test_${suffix}`,
      VISIBILITY_DB: `temporal_vis_test_${suffix}`,
      BIND_ON_IP: '127.0.0.1',
      DYNAMIC_CONFIG_FILE_PATH: path.join(DEPLOY, 'config', 'dynamicconfig', 'longhaul.yaml'),
      SQL_TOOL: found.sqlTool,
      SCHEMA_DIR: found.schemaDir,
      TEMPORAL_CLI: opts.temporalCli,
      NAMESPACE: opts.namespace ?? 'default',
    };
    for (const setting of PORT_SETTINGS) env[setting] = String(await freeLowPort(taken));
    const cluster = new TemporalCluster(env, found.server, opts.adminUrl, [env.TEMPORAL_DB!, env.VISIBILITY_DB!]);
    cluster.setup('schema');
    await cluster.startServer();
    cluster.setup('namespace');
    await cluster.waitForNamespace(env.NAMESPACE!);
    return cluster;
  }

  private setup(step: 'schema' | 'namespace'): void {
    const result = spawnSync('sh', [path.join(DEPLOY, 'setup.sh'), step], { env: { ...process.env, ...this.env, TEMPORAL_ADDRESS: this.address }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`setup.sh ${step} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }

  /** Starts the server process (again, after a kill) and waits until its frontend serves. */
  async startServer(): Promise<void> {
    this.out = '';
    const child = spawn(this.server, ['--root', DEPLOY, '--config', 'config', '--env', 'longhaul', '--allow-no-auth', 'start'], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the Temporal server exited (${child.exitCode}):\n${this.out}`);
        try {
          const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
          try {
            const health = await connection.healthService.check({});
            return health.status === 1; // SERVING
          } finally {
            await connection.close();
          }
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, what: 'the Temporal server to serve' },
    );
  }

  /** A new namespace reaches every service's cache within seconds; wait until it answers. */
  private async waitForNamespace(namespace: string): Promise<void> {
    const connection = await Connection.connect({ address: this.address });
    try {
      await waitFor(
        async () => {
          try {
            await connection.workflowService.describeNamespace({ namespace });
            return true;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, what: `namespace ${namespace}` },
      );
    } finally {
      await connection.close();
    }
  }

  /** Kills the server (SIGKILL unless told otherwise) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    const admin = new pg.Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      for (const db of this.databases) await dropDatabaseForced(admin, db);
    } finally {
      await admin.end();
    }
  }
}
