/**
 * The inbox reads a page's runs with the page, however much waits (issue 26: thousands of runs parked on people):
 * it used to read each approval's run twice and each question's run once, and walk each run's tree, one statement
 * at a time, which at 2,000 waiting runs took seconds; then every waiting run in a statement per thousand.
 * Paging across access and arrivals: test/store/inbox-pages.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Access } from '../../api/access';
import { HumanService } from '../../api/human-service';
import type { Principal } from '../../contract/identity';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';

describe('inbox', () => {
  let dir: string;
  let store: Store;
  const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
  const requestedAt = '2026-12-06T08:00:00.000Z';
  const expiresAt = '2026-12-07T08:00:00.000Z';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-inbox-'));
    store = await createStore({ dataDir: dir });
    const run = async (id: string, owner: string, parentRunId: string | null = null) => {
      await store.runs.insert({ id, owner, goal: `goal of ${id}`, model: 'demo', approvals: 'write', limits, metadata: null, idempotencyKey: null, parentRunId });
    };
    for (let i = 0; i < 40; i++) {
      await run(`run_${i}`, 'ada');
      if (i % 2 === 0) await store.approvals.insert({ id: `appr_${i}`, runId: `run_${i}`, kind: 'tool', turn: 1, tool: 'workspace_write', input: { path: 'a' }, reason: 'write', requestedAt, expiresAt });
      else await store.inputs.insert({ id: `ask_${i}`, runId: `run_${i}`, turn: 1, toolUseId: `tu_${i}`, question: `which way ${i}?`, requestedAt, expiresAt });
    }
    // A sub-agent's run asking its own question, and someone else's run nobody here may see.
    await run('run_child', 'ada', 'run_0');
    await store.inputs.insert({ id: 'ask_child', runId: 'run_child', turn: 1, toolUseId: 'tu_child', question: 'child?', requestedAt, expiresAt });
    await run('run_other', 'bo');
    await store.approvals.insert({ id: 'appr_other', runId: 'run_other', kind: 'tool', turn: 1, tool: 'workspace_write', input: null, reason: 'write', requestedAt, expiresAt });
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists what waits for the caller, its runs read with the page rather than one a run', async () => {
    const config = loadConfig({ DATA_DIR: dir });
    const humans = new HumanService({ store, client: {} as Client, access: new Access(config), logger: createLogger({ level: 'silent' }) });
    const reads = { get: 0, getMany: 0, originOf: 0 };
    const runs = store.runs;
    const tree = store.tree;
    const get = runs.get.bind(runs);
    const getMany = runs.getMany.bind(runs);
    const originOf = tree.originOf.bind(tree);
    jest.spyOn(runs, 'get').mockImplementation((id) => (reads.get++, get(id)));
    jest.spyOn(runs, 'getMany').mockImplementation((ids) => (reads.getMany++, getMany(ids)));
    jest.spyOn(tree, 'originOf').mockImplementation((id) => (reads.originOf++, originOf(id)));
    const ada: Principal = { user: 'ada', roles: [], scopes: 'all', method: 'open' };

    const { items, total, nextCursor } = await humans.inbox(ada, { limit: 100 });

    expect(items).toHaveLength(41);
    expect([total, nextCursor]).toEqual([41, null]);
    expect(items.filter((i) => i.kind === 'approval')).toHaveLength(20);
    expect(items.some((i) => i.runId === 'run_other')).toBe(false);
    expect(items.find((i) => i.id === 'appr_4')).toMatchObject({ goal: 'goal of run_4', subagent: null });
    expect(items.find((i) => i.id === 'ask_child')).toMatchObject({ goal: 'goal of run_child', subagent: { runId: 'run_child', parentRunId: 'run_0', rootRunId: 'run_0' } });
    // The runs come with the page's statement; a tree walk only for the sub-agent's run.
    expect(reads).toEqual({ get: 0, getMany: 0, originOf: 1 });
    // A page of 10: the first ten of the same list, and a cursor for the rest.
    const first = await humans.inbox(ada, { limit: 10 });
    expect([first.items, first.total]).toEqual([items.slice(0, 10), 41]);
    expect(first.nextCursor).toEqual(expect.any(String));
  });
});
