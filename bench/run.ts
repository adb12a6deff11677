/**
 * `npm run bench [name …]`: runs the benchmarks against a real Temporal dev server and prints their
 * figures as JSON (also written to bench/results/<name>.json). Figures in docs/benchmarks.md come
 * from here. No thresholds are asserted: goals are printed next to the measurements.
 */
import fs from 'node:fs';
import path from 'node:path';
import { capacityBench } from './capacity';
import { startBenchEnvironment } from './env';
import { historySizeBench } from './history-size';
import { inboxBench } from './inbox';
import { catchUpBench, liveLatencyBench, socketsBench } from './live';
import { loadBench } from './load';
import { modelTransportBench } from './model-transport';
import { recoveryBench } from './recovery';
import { scaleOutBench } from './scale-out';
import { stepsBench } from './steps';
import { subagentsBench } from './subagents';
import { throughputBench } from './throughput';
import { ttftBench } from './ttft';
import { workspaceBench } from './workspace';

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  'history-size': () => historySizeBench(),
  recovery: () => recoveryBench(),
  'live-latency': () => liveLatencyBench(),
  'catch-up': () => catchUpBench(),
  sockets: () => socketsBench(),
  steps: () => stepsBench(),
  capacity: () => capacityBench(),
  workspace: () => workspaceBench(),
  ttft: () => ttftBench(),
  throughput: () => throughputBench(),
  load: () => loadBench(),
  'scale-out': () => scaleOutBench(),
  subagents: () => subagentsBench(),
  inbox: () => inboxBench(),
  'model-transport': () => modelTransportBench(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(BENCHMARKS);
  for (const n of names) if (!BENCHMARKS[n]) throw new Error(`unknown benchmark ${n}; have ${Object.keys(BENCHMARKS).join(', ')}`);
  const env = await startBenchEnvironment();
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  try {
    for (const name of names) {
      const started = Date.now();
      const result = await BENCHMARKS[name]!();
      const record = { name, at: new Date().toISOString(), node: process.version, durationMs: Date.now() - started, result };
      fs.writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
      process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    }
  } finally {
    await env.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
