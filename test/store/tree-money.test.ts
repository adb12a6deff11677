/**
 * A run tree's money, the same on SQLite and Postgres: a child's cost cap is a reservation out of what its
 * parent's tree has left (a share of it, or all it asks for up to that), held until the child ends; the
 * children cap and the reservation are decided under the tree's lock, so parallel starts cannot pass either;
 * and every model call of the tree is admitted only if its worst case fits under the caps of its run and of
 * every ancestor — parallel calls of sibling runs included — and counts toward the owner's daily budget.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createModelAdmission, type AdmissionRequest } from '../../activities/model/model-admission';
import { loadConfig } from '../../shared/config';
import { PricingTable } from '../../shared/pricing';
import type { Store } from '../../shared/store';
import type { NewRun } from '../../shared/store/runs';
import { openTestStore } from '../support/test-store';

const MODEL = 'tree-model';
/** $1 per million input tokens, $10 per million output tokens (cache writes at 1.25 × input). */
const pricing = new PricingTable({ [MODEL]: { inputPerMTok: 1, outputPerMTok: 10 } });
/** A call sending 1,000 characters and allowed 1,000 output tokens: its worst case is ≈ $0.0105. */
const CALL_WORST_USD = (Math.ceil(1000 * 0.34 * 1.1) * 1.25 + 1000 * 10) / 1_000_000;

const run = (id: string, limits: { maxCostUsd: number; maxSteps?: number }, parentRunId?: string, owner = 'tree-owner'): NewRun & { parentRunId: string } => ({
  id,
  owner,
  goal: `goal of ${id}`,
  model: MODEL,
  approvals: 'none',
  limits: { maxSteps: limits.maxSteps ?? 50, maxCostUsd: limits.maxCostUsd, maxDurationSec: 600 },
  parentRunId: parentRunId ?? (null as unknown as string),
  depth: parentRunId ? 1 : 0,
});
const spend = (costUsd: number) => ({ inputTokens: 10, outputTokens: 5, costUsd });
const call = (key: string, runId: string): AdmissionRequest => ({ key, runId, model: MODEL, promptChars: 1000, prefixChars: 0, prefixKey: 'p', maxTokens: 1000, tree: true });

describe.each(['sqlite', 'postgres'] as const)('a run tree\'s money on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-tree-money-'));
  const admissionOf = (env: Record<string, string> = {}) => createModelAdmission({ store, config: loadConfig({ DATA_DIR: dir, ...env }), pricing });

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives a child a share of what its parent has left, held until the child ends', async () => {
    await store.runs.insert(run('s_root', { maxCostUsd: 1, maxSteps: 10 }));
    await store.runs.addUsage('s_root', spend(0.2), 3); // $0.80 and 7 steps left
    // Its steps: those left but one, which the parent keeps to answer from its children.
    const a = await store.placeChild(run('s_a', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 0.5 });
    expect('run' in a && a.run.limits).toMatchObject({ maxCostUsd: 0.4, maxSteps: 6 });
    // The first child holds its $0.40: the second gets half of the $0.40 still free.
    const b = await store.placeChild(run('s_b', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 0.5 });
    expect('run' in b && b.run.limits.maxCostUsd).toBeCloseTo(0.2);
    // A child that asks for its own cap (share 1) gets it only up to what is free, and never more than it asked.
    const c = await store.placeChild(run('s_c', { maxCostUsd: 0.05 }, 's_root'), { maxChildren: 50, costShare: 1 });
    expect('run' in c && c.run.limits.maxCostUsd).toBeCloseTo(0.05);
    const d = await store.placeChild(run('s_d', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 1 });
    expect('run' in d && d.run.limits.maxCostUsd).toBeCloseTo(0.8 - 0.4 - 0.2 - 0.05);
    // Nothing is free now; once the first child ends having spent $0.10, its unspent $0.30 comes back.
    const e = await store.placeChild(run('s_e', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 1 });
    expect('run' in e && e.run.limits.maxCostUsd).toBeCloseTo(0);
    await store.runs.addUsage('s_a', spend(0.1), 2);
    await store.runs.updateState('s_a', { status: 'completed' });
    const f = await store.placeChild(run('s_f', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 1 });
    expect('run' in f && f.run.limits).toMatchObject({ maxSteps: 4 });
    expect('run' in f && f.run.limits.maxCostUsd).toBeCloseTo(0.3);
    // A retried start finds its child as it was.
    const again = await store.placeChild(run('s_f', { maxCostUsd: 5 }, 's_root'), { maxChildren: 50, costShare: 1 });
    expect(again).toMatchObject({ created: false, run: { id: 's_f' } });
  });

  it('counts the children cap and inserts under one lock: parallel starts stop at the cap exactly', async () => {
    await store.runs.insert(run('c_root', { maxCostUsd: 100 }));
    const starts = await Promise.all(Array.from({ length: 60 }, (_, i) => store.placeChild(run(`c_child_${i}`, { maxCostUsd: 1 }, 'c_root'), { maxChildren: 50, costShare: 0.01 })));
    expect(starts.filter((s) => 'run' in s && s.created)).toHaveLength(50);
    expect(starts.filter((s) => 'tooMany' in s)).toHaveLength(10);
    expect(await store.runs.countChildren('c_root')).toBe(50);
  });

  it('never lets parallel children reserve more than their parent has', async () => {
    await store.runs.insert(run('p_root', { maxCostUsd: 1 }));
    const starts = await Promise.all(Array.from({ length: 12 }, (_, i) => store.placeChild(run(`p_child_${i}`, { maxCostUsd: 0.2 }, 'p_root'), { maxChildren: 50, costShare: 1 })));
    const reserved = starts.reduce((sum, s) => sum + ('run' in s ? s.run.limits.maxCostUsd : 0), 0);
    expect(reserved).toBeLessThanOrEqual(1 + 1e-9);
    expect(reserved).toBeCloseTo(1);
  });

  it('admits a tree\'s parallel calls only while their worst case fits under the root\'s cap, and gives back what a settled call did not use', async () => {
    const admission = admissionOf();
    // A child whose own cap is wide (as if raised past what it was given): only the root's $0.05 binds it, and
    // twenty calls of its subtree come at once (its own and its children's, as parallel grandchildren would).
    await store.runs.insert(run('a_root', { maxCostUsd: 0.05 }));
    await store.runs.insert(run('a_child_0', { maxCostUsd: 10 }, 'a_root'));
    for (let i = 1; i < 4; i++) await store.runs.insert({ ...run(`a_child_${i}`, { maxCostUsd: 0.05 }, 'a_child_0'), depth: 2 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => admission.admit(call(`a_call_${i}`, `a_child_${i % 4}`))));
    const granted = answers.filter((a) => 'granted' in a);
    expect(granted).toHaveLength(Math.floor(0.05 / CALL_WORST_USD)); // 4
    for (const a of answers.filter((x) => !('granted' in x))) expect(a).toMatchObject({ deferred: 'limit', limit: 'maxCostUsd', value: 0.05 });

    // One granted call settles having spent $0.001: what it reserved beyond that is free again, for one more call.
    const settledKey = `a_call_${answers.findIndex((a) => 'granted' in a)}`;
    const settledRun = `a_child_${Number(settledKey.split('_')[2]) % 4}`;
    await store.transaction(async (tx) => {
      await tx.runs.addUsage(settledRun, spend(0.001), 1);
      await admission.settle(tx, { key: settledKey, runId: settledRun, model: MODEL, promptChars: 1000, metered: true, usage: spend(0.001) });
    });
    expect(await admission.admit(call('a_more_1', 'a_child_0'))).toEqual({ granted: true, metered: true });
    expect(await admission.admit(call('a_more_2', 'a_child_1'))).toMatchObject({ deferred: 'limit', limit: 'maxCostUsd' });
    // The same call admitted again (a retry) is not counted against itself.
    expect(await admission.admit(call('a_more_1', 'a_child_0'))).toEqual({ granted: true, metered: true });
  });

  it('holds a child\'s call to its own cap, and the root\'s own call to the room its running children leave', async () => {
    const admission = admissionOf();
    await store.runs.insert(run('h_root', { maxCostUsd: 0.1 }));
    await store.placeChild(run('h_child', { maxCostUsd: 0.01 }, 'h_root'), { maxChildren: 50, costShare: 1 });
    const refused = await admission.admit(call('h_call', 'h_child'));
    expect(refused).toMatchObject({ deferred: 'limit', limit: 'maxCostUsd', value: 0.01 });
    expect((refused as { message: string }).message).toMatch(/this run/);
    // The root has $0.10 less the child's $0.01 hold: one call fits, a second would not.
    await store.runs.insert(run('h_child_2', { maxCostUsd: 0.085 }, 'h_root'));
    expect(await admission.admit(call('h_root_call', 'h_root'))).toMatchObject({ deferred: 'limit', limit: 'maxCostUsd', value: 0.1 });
    await store.runs.updateState('h_child_2', { status: 'failed' });
    expect(await admission.admit(call('h_root_call', 'h_root'))).toEqual({ granted: true, metered: true });
  });

  it('counts the tree\'s model calls toward every ancestor\'s step cap', async () => {
    const admission = admissionOf();
    await store.runs.insert(run('t_root', { maxCostUsd: 10, maxSteps: 4 }));
    await store.runs.insert(run('t_child', { maxCostUsd: 10, maxSteps: 50 }, 't_root'));
    await store.runs.addUsage('t_root', spend(0), 1);
    await store.runs.addUsage('t_child', spend(0), 2); // the tree has taken 3 of the root's 4 steps
    expect(await admission.admit(call('t_call_3', 't_child'))).toEqual({ granted: true, metered: true });
    // That call is in flight: it holds the last step.
    const refused = await admission.admit(call('t_call_4', 't_child'));
    expect(refused).toMatchObject({ deferred: 'limit', limit: 'maxSteps', value: 4 });
    expect((refused as { message: string }).message).toMatch(/run t_root above it/);
  });

  it('counts a child\'s calls toward its owner\'s daily budget before each call', async () => {
    const admission = admissionOf({ USER_DAILY_BUDGETS: 'budget-owner:0.02' });
    await store.runs.insert(run('b_root', { maxCostUsd: 10 }, undefined, 'budget-owner'));
    await store.runs.insert(run('b_child', { maxCostUsd: 1 }, 'b_root', 'budget-owner'));
    expect(await admission.admit(call('b_1', 'b_child'))).toEqual({ granted: true, metered: true });
    expect(await admission.admit(call('b_2', 'b_root'))).toEqual({ granted: true, metered: true });
    // The two calls in flight reserve ≈ $0.021 of the owner's $0.02: the next waits for tomorrow.
    expect(await admission.admit(call('b_3', 'b_child'))).toMatchObject({ deferred: 'budget', budgetUsd: 0.02 });
  });
});
