/**
 * A budget decision reads what was spent and what calls in flight have reserved in one snapshot (Postgres). A call
 * settles in one commit: its reservation goes and its spend is written. Read as two statements under READ COMMITTED,
 * a call that settles between them is in neither read, and a decision admits a call that the money left cannot pay.
 * Each test commits a settle right after the decision's first read of spend; the decision must still count the
 * settled call, as its reservation or as its spend. (SQLite takes its write lock at BEGIN, so no commit can come
 * between; the race is Postgres's.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createModelAdmission, type AdmissionRequest } from '../../activities/model/model-admission';
import { utcDay } from '../../shared/capacity/model-limits';
import { loadConfig } from '../../shared/config';
import { PricingTable } from '../../shared/pricing';
import type { Store } from '../../shared/store';
import type { NewRun } from '../../shared/store/runs';
import { openTestStore } from '../support/test-store';

const MODEL = 'snapshot-model';
/** $1 per million input tokens, $10 per million output tokens: a call of 1,000 characters and 1,000 output tokens may cost ≈ $0.0105. */
const pricing = new PricingTable({ [MODEL]: { inputPerMTok: 1, outputPerMTok: 10 } });

/** What runs after the next statement matching `after`: armed by `interleave`, taken by the first match. */
let pending: { after: (text: string) => boolean; between: () => Promise<void> } | undefined;
let spy: jest.SpyInstance | undefined;

/**
 * Wraps node-postgres's query for the connections opened after it (the store binds each connection's query when it
 * connects, so this is installed before the store opens).
 */
function watchStatements(): void {
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  spy = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const answer = original.apply(this, args);
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    const next = pending;
    if (next && typeof text === 'string' && next.after(text) && answer instanceof Promise) {
      pending = undefined;
      return answer.then(async (rows: unknown) => {
        await next.between();
        return rows;
      });
    }
    return answer;
  } as never);
}

/**
 * Once, after the next statement whose text matches `after` has answered and before its caller sees the answer, runs
 * `between` (on another connection): a commit that lands between that statement and the next.
 */
function interleave(after: (text: string) => boolean, between: () => Promise<void>): { fired: () => boolean; restore: () => void } {
  const armed = { after, between };
  pending = armed;
  return { fired: () => pending !== armed, restore: () => void (pending = undefined) };
}

const run = (id: string, over: Partial<NewRun> = {}): NewRun => ({
  id,
  owner: 'snap-owner',
  goal: `goal of ${id}`,
  model: MODEL,
  approvals: 'none',
  limits: { maxSteps: 50, maxCostUsd: 100, maxDurationSec: 600 },
  ...over,
});
const call = (key: string, runId: string, tree = false): AdmissionRequest => ({ key, runId, model: MODEL, promptChars: 1000, prefixChars: 0, prefixKey: 'p', maxTokens: 1000, tree });
const usage = (costUsd: number) => ({ inputTokens: 10, outputTokens: 5, costUsd });

describe('money read in one snapshot on Postgres', () => {
  let store: Store;
  let close: () => Promise<void>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-money-snapshot-'));

  beforeAll(async () => {
    watchStatements();
    ({ store, close } = await openTestStore('postgres'));
  });
  afterAll(async () => {
    await close();
    spy?.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A's answer committed as the model call's commit does: its reservation settled, its spend recorded and on its run. */
  const settle = (admission: ReturnType<typeof createModelAdmission>, key: string, runId: string, costUsd: number) => () =>
    store.transaction(async (tx) => {
      await admission.settle(tx, { key, runId, model: MODEL, promptChars: 1000, usage: usage(costUsd), metered: true });
      await tx.runs.addUsage(runId, usage(costUsd), 1);
    });
  const readsSpend = (text: string) => text.includes('model_calls') && /sum\(/i.test(text);

  it("counts a sibling call that settles during the owner's budget decision", async () => {
    const admission = createModelAdmission({ store, config: loadConfig({ DATA_DIR: dir, USER_DAILY_BUDGET_USD: '1' }), pricing });
    await store.runs.insert(run('o_a'));
    await store.runs.insert(run('o_b'));
    await store.modelCalls.record({ key: 'o_before', runId: 'o_a', model: MODEL, atMs: Date.now(), day: utcDay(Date.now()), usage: usage(0.99) });
    // A is admitted against the $0.01 left; it may cost ≈ $0.0104 and costs $0.01. Either way nothing is left for B.
    expect(await admission.admit(call('o_call_a', 'o_a'))).toEqual({ granted: true, metered: true });
    const race = interleave(readsSpend, settle(admission, 'o_call_a', 'o_a', 0.01));
    try {
      const b = await admission.admit(call('o_call_b', 'o_b'));
      expect(race.fired()).toBe(true);
      expect(b).toMatchObject({ deferred: 'budget' });
    } finally {
      race.restore();
    }
  });

  it("counts a sibling call that settles during the team's budget decision", async () => {
    const admission = createModelAdmission({ store, config: loadConfig({ DATA_DIR: dir, TEAM_DAILY_BUDGETS: 'snaps:1' }), pricing });
    await store.runs.insert(run('t_a', { owner: 'snap-t1', team: 'snaps' }));
    await store.runs.insert(run('t_b', { owner: 'snap-t2', team: 'snaps' }));
    await store.modelCalls.record({ key: 't_before', runId: 't_a', model: MODEL, atMs: Date.now(), day: utcDay(Date.now()), usage: usage(0.99) });
    expect(await admission.admit(call('t_call_a', 't_a'))).toEqual({ granted: true, metered: true });
    const race = interleave(readsSpend, settle(admission, 't_call_a', 't_a', 0.01));
    try {
      const b = await admission.admit(call('t_call_b', 't_b'));
      expect(race.fired()).toBe(true);
      expect(b).toMatchObject({ deferred: 'budget', team: 'snaps' });
    } finally {
      race.restore();
    }
  });

  it("counts a call of the parent that settles during its sub-agent's decision", async () => {
    const admission = createModelAdmission({ store, config: loadConfig({ DATA_DIR: dir }), pricing });
    // The parent may spend $0.03 in all and has spent $0.01. Its own call A fits in the $0.02 left.
    await store.runs.insert(run('r_root', { limits: { maxSteps: 50, maxCostUsd: 0.03, maxDurationSec: 600 } }));
    await store.runs.addUsage('r_root', usage(0.01), 1);
    expect(await admission.admit(call('r_call_a', 'r_root', true))).toEqual({ granted: true, metered: true });
    // A child whose own cap fits its call: only the parent's room, less A (in flight or spent), refuses it.
    await store.runs.insert({ ...run('r_child', { limits: { maxSteps: 10, maxCostUsd: 0.011, maxDurationSec: 600 } }), parentRunId: 'r_root', depth: 1 });
    const race = interleave((text) => text.includes('limits_json'), settle(admission, 'r_call_a', 'r_root', 0.01));
    try {
      const b = await admission.admit(call('r_call_b', 'r_child', true));
      expect(race.fired()).toBe(true);
      expect(b).toMatchObject({ deferred: 'limit', limit: 'maxCostUsd', value: 0.03 });
    } finally {
      race.restore();
    }
  });
});
