/**
 * What rolls up a run tree in the store, the same on SQLite and Postgres: which sub-agent of which tree a run is
 * (`tree.originOf`), whether a run is above another, the live runs below one; and the outbox, which sends a child's
 * requests for a human (and only those) to its root's webhook subscribers, labelled, linking to the root's page.
 */
import type { Store } from '../../shared/store';
import type { NewRun } from '../../shared/store/runs';
import type { RunWebhooks } from '../../shared/store/webhooks';
import { openTestStore } from '../support/test-store';

const run = (id: string, tree: Partial<Pick<NewRun, 'parentRunId' | 'depth' | 'agent' | 'metadata' | 'webhooks'>> = {}): NewRun => ({
  id,
  owner: 'rita',
  goal: `goal of ${id}`,
  model: 'demo',
  approvals: 'none',
  limits: { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 60 },
  ...tree,
});
const hooks = (url: string, events?: RunWebhooks['to'][number]['events']): RunWebhooks => ({ to: [{ url, own: true, ...(events && { events }) }], publicUrl: 'https://longhaul.example' });
const requested = (approvalId: string) => ({ key: `apr:${approvalId}`, type: 'approval.requested' as const, data: { approvalId, kind: 'tool' as const, tool: 'publish', input: {}, risk: 'write' as const, reason: 'publish is a write action', expiresAt: '2026-12-06T06:00:00.000Z' } });

describe.each(['sqlite', 'postgres'] as const)('run tree roll-up on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
    await store.runs.insert(run('r_root', { webhooks: hooks('https://hooks.example/root') }));
    await store.runs.insert(run('r_a', { parentRunId: 'r_root', depth: 1, agent: 'researcher', metadata: { parentRunId: 'r_root', toolUseId: 'toolu_a' } }));
    await store.runs.insert(run('r_a1', { parentRunId: 'r_a', depth: 2, agent: 'reader', metadata: { parentRunId: 'r_a', toolUseId: 'toolu_a1' } }));
    await store.runs.insert(run('r_b', { parentRunId: 'r_root', depth: 1, agent: 'writer', metadata: { parentRunId: 'r_root', toolUseId: 'toolu_b' } }));
    await store.runs.updateState('r_b', { status: 'completed', ended: true });
    await store.runs.insert(run('r_other', { webhooks: hooks('https://hooks.example/other') }));
  });
  afterAll(() => close());

  it('says which sub-agent of which tree a run is, and none for a root', async () => {
    expect(await store.tree.originOf('r_a1')).toEqual({ runId: 'r_a1', agent: 'reader', parentRunId: 'r_a', toolUseId: 'toolu_a1', rootRunId: 'r_root', depth: 2 });
    expect(await store.tree.originOf('r_a')).toEqual({ runId: 'r_a', agent: 'researcher', parentRunId: 'r_root', toolUseId: 'toolu_a', rootRunId: 'r_root', depth: 1 });
    expect(await store.tree.originOf('r_root')).toBeNull();
    expect(await store.tree.originOf('r_nowhere')).toBeNull();
  });

  it('knows which runs are above which, and the (live) runs below one', async () => {
    expect(await store.tree.isAncestor('r_root', 'r_a1')).toBe(true);
    expect(await store.tree.isAncestor('r_a', 'r_a1')).toBe(true);
    expect(await store.tree.isAncestor('r_b', 'r_a1')).toBe(false);
    expect(await store.tree.isAncestor('r_a1', 'r_a1')).toBe(false);
    expect(await store.tree.isAncestor('r_other', 'r_a')).toBe(false);
    expect((await store.tree.descendantIds('r_root')).sort()).toEqual(['r_a', 'r_a1', 'r_b']);
    expect((await store.tree.descendantIds('r_root', { live: true })).sort()).toEqual(['r_a', 'r_a1']);
    expect(await store.tree.descendantIds('r_a1')).toEqual([]);
  });

  it("sends a child's requests, and only those, to its root's subscribers, labelled and linking to the root", async () => {
    const [asked] = await store.events.append('r_a1', [requested('apr_deep')]);
    await store.events.append('r_a1', [{ key: 'done', type: 'run.completed', data: { turns: 1, usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } }]);
    const mine = await store.webhooks.listForRun('r_a1');
    expect(mine.map((d) => [d.event, d.url])).toEqual([['approval.requested', 'https://hooks.example/root']]);
    const delivery = await store.webhooks.get(mine[0]!.id);
    expect(JSON.parse(delivery!.body)).toEqual({
      type: 'approval.requested',
      timestamp: asked!.at,
      data: {
        runId: 'r_a1',
        seq: asked!.seq,
        link: 'https://longhaul.example/runs/r_root',
        ...requested('apr_deep').data,
        subagent: { runId: 'r_a1', agent: 'reader', parentRunId: 'r_a', toolUseId: 'toolu_a1', rootRunId: 'r_root', depth: 2 },
      },
    });
    // A root's own request goes to its own subscribers, unlabelled, as ever.
    await store.events.append('r_other', [requested('apr_root')]);
    const own = await store.webhooks.get((await store.webhooks.listForRun('r_other'))[0]!.id);
    expect(JSON.parse(own!.body).data).not.toHaveProperty('subagent');
  });

  it("respects the root subscriber's choice of events", async () => {
    await store.runs.insert(run('f_root', { webhooks: hooks('https://hooks.example/picky', ['run.completed']) }));
    await store.runs.insert(run('f_child', { parentRunId: 'f_root', depth: 1, agent: 'writer' }));
    await store.events.append('f_child', [requested('apr_picky')]);
    expect(await store.webhooks.listForRun('f_child')).toEqual([]);
  });

  it("lists the pending questions of a tree's runs", async () => {
    const at = { requestedAt: '2026-12-06T05:00:00.000Z', expiresAt: '2026-12-06T06:00:00.000Z' };
    await store.inputs.insert({ id: 'q_a1', runId: 'r_a1', turn: 1, toolUseId: 'toolu_q', question: 'Which?', ...at });
    await store.inputs.insert({ id: 'q_other', runId: 'r_other', turn: 1, toolUseId: 'toolu_q2', question: 'What?', ...at });
    expect((await store.inputs.listPendingOf(['r_a', 'r_a1'])).map((q) => q.id)).toEqual(['q_a1']);
    expect(await store.inputs.listPendingOf([])).toEqual([]);
  });
});
