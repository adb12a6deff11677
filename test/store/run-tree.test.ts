/**
 * Run trees in the store, the same on SQLite and Postgres (migration 014_run_tree): a child run names its parent
 * and depth; a run's children and its tree's recorded spend are read back; lists show roots unless asked for
 * children; and a tree holds one of its owner's slots and one place in their queue, its root's.
 */
import type { Store } from '../../shared/store';
import type { NewRun } from '../../shared/store/runs';
import { openTestStore } from '../support/test-store';

const run = (id: string, owner: string, tree: Partial<Pick<NewRun, 'parentRunId' | 'depth'>> = {}): NewRun => ({
  id,
  owner,
  goal: `goal of ${id}`,
  model: 'demo',
  approvals: 'none',
  limits: { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 60 },
  ...tree,
});
const spend = (costUsd: number) => ({ inputTokens: 10, outputTokens: 5, costUsd });

describe.each(['sqlite', 'postgres'] as const)('run trees on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('records parent and depth, reads a run\'s children and sums its tree\'s spend', async () => {
    await store.runs.insert(run('t_root', 'tara'));
    await store.runs.insert(run('t_a', 'tara', { parentRunId: 't_root', depth: 1 }));
    await store.runs.insert(run('t_b', 'tara', { parentRunId: 't_root', depth: 1 }));
    await store.runs.insert(run('t_a1', 'tara', { parentRunId: 't_a', depth: 2 }));
    await store.runs.insert(run('t_other', 'tara'));
    await store.runs.addUsage('t_root', spend(0.5), 1);
    await store.runs.addUsage('t_a', spend(0.25), 1);
    await store.runs.addUsage('t_b', spend(0.125), 1);
    await store.runs.addUsage('t_a1', spend(0.0625), 1);
    await store.runs.addUsage('t_other', spend(4), 1);

    expect(await store.runs.get('t_a1')).toMatchObject({ parentRunId: 't_a', depth: 2 });
    expect(await store.runs.get('t_root')).toMatchObject({ parentRunId: null, depth: 0 });
    expect((await store.runs.children('t_root')).map((r) => r.id)).toEqual(['t_a', 't_b']);
    expect(await store.runs.countChildren('t_root')).toBe(2);
    // A list's page at once: each run's count of children, the runs with none absent.
    expect(await store.runs.childCounts(['t_root', 't_a', 't_b', 't_other'])).toEqual(new Map([['t_root', 2], ['t_a', 1]]));
    expect(await store.runs.childCounts([])).toEqual(new Map());
    expect(await store.runs.treeCostUsd('t_root')).toBeCloseTo(0.9375);
    expect(await store.runs.treeCostUsd('t_a')).toBeCloseTo(0.3125);
    expect(await store.runs.treeCostUsd('t_b')).toBeCloseTo(0.125);
  });

  it('lists roots unless children are asked for', async () => {
    await store.runs.insert(run('l_root', 'lena'));
    await store.runs.insert(run('l_child', 'lena', { parentRunId: 'l_root', depth: 1 }));
    expect((await store.runs.list({ owner: 'lena', limit: 10 })).map((r) => r.id)).toEqual(['l_root']);
    expect((await store.runs.list({ owner: 'lena', limit: 10, includeChildren: true })).map((r) => r.id).sort()).toEqual(['l_child', 'l_root']);
  });

  it('counts a tree once toward its owner\'s slots and queue: children neither hold a slot nor wait for one', async () => {
    await store.runs.insert(run('s_root', 'sam'));
    await store.runs.markAdmitted('s_root');
    await store.runs.updateState('s_root', { status: 'running' });
    await store.runs.insert(run('s_child', 'sam', { parentRunId: 's_root', depth: 1 }));
    await store.runs.insert(run('s_waiting', 'sam'));

    expect(await store.runs.countActive('sam')).toBe(1);
    expect((await store.runs.queued('sam')).map((r) => r.id)).toEqual(['s_waiting']);
    expect(await store.runs.countQueued('sam')).toBe(1);
  });
});
