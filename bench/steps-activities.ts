/**
 * The steps bench's two activities on their own (issue 22): a run's model call and `workspace_list` call, turn after
 * turn, through `MockActivityEnvironment` on a SQLite store — no Temporal server, no workflow. Prints, per call, the
 * SQLite statements and transactions it made (better-sqlite3's `run`/`get`/`all` counted; `begin`/`commit` count as
 * statements; a write outside a transaction counts as a transaction of its own) and its time: medians over every
 * counted call (run 0 warms up; a run's first turn is not counted). The counts are deterministic; the times are for
 * comparing two trees run one after the other on the same machine.
 *
 *   npx tsx bench/steps-activities.ts [runs] [turns]     (STATEMENT_TIMES=1: each statement's time too)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { InMemoryBus } from '../shared/bus/in-memory-bus';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore } from '../shared/store';
import { createActivityDeps } from '../worker/activity-deps';
import { ScriptedModel } from './scripted-model';

/** Every statement better-sqlite3 runs, and the transactions among them. */
const counts = { statements: 0, transactions: 0 };
/** STATEMENT_TIMES=1: each statement's time in SQLite, by the start of its text. */
const byStatement = process.env.STATEMENT_TIMES ? new Map<string, { n: number; ms: number }>() : undefined;
let inTransaction = false;
function countStatements(): void {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'get' | 'all', (...a: unknown[]) => unknown> & { source: string };
  for (const method of ['run', 'get', 'all'] as const) {
    const original = proto[method];
    proto[method] = function (this: { source: string }, ...a: unknown[]) {
      counts.statements += 1;
      // TRACE_SQL=n: each statement's text from the n-th on.
      if (process.env.TRACE_SQL && counts.statements > Number(process.env.TRACE_SQL)) console.log(this.source.slice(0, 150));
      // A transaction: an explicit one, or a write outside one (autocommitted: a commit of its own).
      if (/^\s*begin/i.test(this.source)) {
        counts.transactions += 1;
        inTransaction = true;
      } else if (/^\s*(commit|rollback)/i.test(this.source)) {
        inTransaction = false;
      } else if (!inTransaction && !/^\s*(select|with|pragma)/i.test(this.source)) counts.transactions += 1;
      if (!byStatement) return original.apply(this, a);
      const started = performance.now();
      try {
        return original.apply(this, a);
      } finally {
        const what = this.source.slice(0, 40);
        const seen = byStatement.get(what) ?? { n: 0, ms: 0 };
        byStatement.set(what, { n: seen.n + 1, ms: seen.ms + performance.now() - started });
      }
    };
  }
  probe.close();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const turns = Number(process.argv[3] ?? 20);
  countStatements();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-steps-acts-'));
  const config = loadConfig({ DATA_DIR: dir, LLM_MODEL: 'scripted', LOG_LEVEL: 'silent' });
  const store = await createStore(config);
  const scripted = new ScriptedModel(turns);
  const acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => scripted }));
  const env = new MockActivityEnvironment();
  const per = { model: { ms: [] as number[], statements: [] as number[], transactions: [] as number[] }, tool: { ms: [] as number[], statements: [] as number[], transactions: [] as number[] } };

  async function measured<T>(what: 'model' | 'tool', counted: boolean, call: () => Promise<T>): Promise<T> {
    const before = { ...counts };
    const started = performance.now();
    const value = await call();
    const ms = performance.now() - started;
    if (counted) {
      per[what].ms.push(ms);
      per[what].statements.push(counts.statements - before.statements);
      per[what].transactions.push(counts.transactions - before.transactions);
    }
    return value;
  }

  for (let r = 0; r <= runs; r++) {
    const runId = `run_${r}`;
    await store.runs.insert({ id: runId, owner: 'bench', goal: 'list the workspace', model: 'scripted', approvals: 'write', limits: { maxSteps: turns + 1, maxCostUsd: 100, maxDurationSec: 3600 } });
    for (let turn = 1; turn <= turns; turn++) {
      // Run 0 warms up; a run's first turn (its reads once per worker) is not the steady state either.
      const counted = r > 0 && turn > 1;
      await measured('model', counted, () => env.run(acts.callModel, { runId, turn, model: 'scripted' }));
      await measured('tool', counted, () => env.run(acts.runTool, { runId, turn, toolUseId: `toolu_${turn}` }));
    }
  }
  for (const what of ['model', 'tool'] as const) {
    const p = per[what];
    console.log(`${what} call: ${median(p.statements)} statements, ${median(p.transactions)} transactions, ${median(p.ms).toFixed(3)} ms (median of ${p.ms.length})`);
  }
  for (const [what, t] of [...(byStatement ?? [])].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${(t.ms / t.n).toFixed(3)} ms × ${t.n}  ${what}`);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
