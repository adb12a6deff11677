/**
 * The benchmarks' world: one Temporal dev server and one workflow bundle, like a test run, and a
 * Postgres URL (from TEST_DATABASE_URL) for the benchmarks that need it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflows } from '../worker/workflow-bundle';
import { findTemporalCli } from '../scripts/temporal-cli';
import { startDevServer, type DevServer } from '../shared/temporal/dev-server';
import { freePort } from '../test/support/ports';

export async function startBenchEnvironment(): Promise<{ server: DevServer; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-bench-'));
  const cli = findTemporalCli();
  if (cli) process.env.LONGHAUL_TEST_TEMPORAL_CLI = cli;
  const server = await startDevServer({ cliPath: cli, port: await freePort(), uiPort: 0, logFile: path.join(dir, 'temporal.log') });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const code = await bundleWorkflows({ log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error });
  fs.writeFileSync(bundlePath, code);
  process.env.LONGHAUL_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.LONGHAUL_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.LONGHAUL_TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL || 'postgres://longhaul:longhaul@127.0.0.1:5432/postgres';
  return {
    server,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function summarize(samples: number[]): { n: number; p50: number; p99: number; max: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1),
  };
}
