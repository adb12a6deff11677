/**
 * What a sticky-cache miss costs the worker's workflow thread (issue 26): a run evicted while it waited is created
 * afresh at its next task (the workflow modules evaluated again in the SDK's reusable V8 context) and replays its
 * history before it can act. This times exactly that, without a server: the recorded histories of runs that waited
 * for an approval or an answer (test/fixtures/histories), each replayed `REPLAY_ROUNDS` times (default 20) by the
 * SDK's replayer against today's bundle, one after another. The figure is the workflow thread's work per run;
 * fetching the history from the server (one round trip, tens of KB) comes on top.
 *
 * `npx tsx bench/replay-cost.ts`
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../worker/workflow-bundle';

const FIXTURES = path.join(__dirname, '..', 'test', 'fixtures', 'histories');
/** Runs that waited for a person: an approval, an answer. */
const WAITED = ['2026-11-22/crash-recovery--00-restart-approval--0.json', '2026-12-06-waits/waits--early-resume--0.json', '2026-12-06-waits/waits--team-budget--0.json'];

async function main(): Promise<void> {
  const rounds = Number(process.env.REPLAY_ROUNDS ?? 20);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error };
  const code = await bundleWorkflows(quiet);
  const out: Record<string, unknown> = {};
  for (const file of WAITED) {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')));
    const histories = Array.from({ length: rounds + 1 }, (_, i) => ({ workflowId: `${file}#${i}`, history }));
    const took: number[] = [];
    let last = performance.now();
    let first = true;
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories)) {
      if (result.error) throw result.error;
      const now = performance.now();
      if (!first) took.push(now - last); // the first pays the worker's start
      first = false;
      last = now;
    }
    took.sort((a, b) => a - b);
    out[file] = { events: history.events?.length ?? 0, replays: took.length, p50Ms: Number(took[Math.floor(took.length / 2)]!.toFixed(1)), maxMs: Number(took.at(-1)!.toFixed(1)) };
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
