/**
 * Once per `npm test`: start one Temporal dev server (the real one, in memory, on free ports),
 * bundle the workflows once, and check that the test Postgres is reachable. Suites read the
 * results from the environment (test/support/test-env.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../worker/workflow-bundle';
import pg from 'pg';
import { findTemporalCli } from '../scripts/temporal-cli';
import { startDevServer } from '../shared/temporal/dev-server';
import { freePort } from './support/ports';
import { ARTIFACTS_DIR } from './support/test-env';

const ROOT = path.join(__dirname, '..');
const DEFAULT_TEST_POSTGRES = 'postgres://longhaul:longhaul@127.0.0.1:5432/postgres';

export default async function globalSetup(): Promise<void> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const log = (m: string) => process.stderr.write(`[global-setup] ${m}\n`);

  const postgresUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_POSTGRES;
  const probe = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    await probe.query('select 1');
  } catch (err) {
    throw new Error(
      `Postgres for the store tests is not reachable at ${postgresUrl.replace(/:[^:@/]+@/, ':***@')} (${String(err)}). ` +
        'Run .ci/run, or start Postgres and set TEST_DATABASE_URL to a role that may CREATE DATABASE.',
      { cause: err },
    );
  } finally {
    await probe.end().catch(() => undefined);
  }

  const cli = findTemporalCli();
  const port = await freePort();
  const started = Date.now();
  const server = await startDevServer({
    cliPath: cli,
    port,
    uiPort: 0,
    logFile: path.join(ARTIFACTS_DIR, 'temporal-dev-server.log'),
    log,
  });
  log(`Temporal dev server on ${server.address} (pid ${server.pid ?? 'sdk'}) in ${Date.now() - started}ms`);

  const bundlePath = path.join(ARTIFACTS_DIR, 'workflow-bundle.js');
  const code = await bundleWorkflows({ log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: log, error: log });
  fs.writeFileSync(bundlePath, code);

  // The web UI, as `npm run build` makes it, for the browser tests.
  const vite = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'web', 'vite.config.mts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (vite.status !== 0) throw new Error(`building the web UI failed:\n${vite.stdout}\n${vite.stderr}`);

  process.env.LONGHAUL_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.LONGHAUL_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.LONGHAUL_TEST_POSTGRES_URL = postgresUrl;
  process.env.LONGHAUL_TEST_TEMPORAL_CLI = cli ?? '';
  (globalThis as { __longhaulDevServer?: typeof server }).__longhaulDevServer = server;
}
