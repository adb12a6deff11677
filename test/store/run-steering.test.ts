/**
 * A resume names the pause it ends, as the store shows it (the latest `run.paused` key), so a workflow that takes
 * the resume before the pause — its worker died after writing the pause — keeps it for that pause. A run the store
 * does not show paused is resumed as before, naming nothing. A tree's resume resumes the runs below that a person
 * paused (the tree's pause), never one that paused itself at its segment cap or out of a daily budget.
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { Principal } from '../../contract/identity';
import { eventKeys } from '../../contract/keys';
import type { ControlRequest, PauseCause } from '../../contract/run';
import { RunSteering } from '../../api/run-steering';
import { OwedStarts } from '../../api/owed-starts';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

describe('resuming a run', () => {
  let store: Store;
  let close: () => Promise<void>;
  const signals: { name: string; arg: ControlRequest }[] = [];
  const client = { workflow: { getHandle: () => ({ signal: async (def: { name: string }, arg: ControlRequest) => void signals.push({ name: def.name, arg }) }) } } as unknown as Client;

  beforeAll(async () => {
    ({ store, close } = await openTestStore('sqlite'));
  });
  afterAll(() => close());

  it('names the pause the store shows, and nothing for a run it does not show paused', async () => {
    await store.runs.insert({ id: 'run_p', owner: 'ann', goal: 'g', model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    const steering = new RunSteering({ client, store, owedStarts: new OwedStarts({ client, store, config: loadConfig({ DATA_DIR: os.tmpdir() }), logger: createLogger({ level: 'silent' }) }), getSteerable: async (_caller, id) => (await store.runs.get(id))! });
    const ann: Principal = { user: 'ann', roles: [], scopes: 'all', method: 'token' };

    await steering.control(ann, 'run_p', 'resume');
    await store.events.append('run_p', [
      { key: eventKeys.paused(0, 1, 1), type: 'run.paused', data: { turn: 1, by: 'system', reason: 'budget' } },
      { key: eventKeys.resumed(0, 1, 1), type: 'run.resumed', data: { turn: 1, by: 'ann' } },
      { key: eventKeys.paused(0, 1, 2), type: 'run.paused', data: { turn: 1, by: 'system', reason: 'budget' } },
    ]);
    await store.runs.updateState('run_p', { status: 'paused' });
    await steering.control(ann, 'run_p', 'resume');

    expect(signals).toEqual([
      { name: 'resume', arg: { by: 'ann' } },
      { name: 'resume', arg: { by: 'ann', pause: 'run.paused:0:1:2' } },
    ]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('resuming a run tree on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  const told: { runId: string; name: string }[] = [];
  const client = { workflow: { getHandle: (runId: string) => ({ signal: async (def: { name: string }) => void told.push({ runId, name: def.name }) }) } } as unknown as Client;
  const ann: Principal = { user: 'ann', roles: [], scopes: 'all', method: 'token' };
  const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
  const tag = `${dialect}_${Date.now()}`;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  /** A paused run (of the tree under `parent`), its latest `run.paused` by `by` for `cause` (none: recorded before causes). */
  async function paused(id: string, parent: string | undefined, by: string, cause?: PauseCause): Promise<string> {
    const runId = `run_${id}_${tag}`;
    await store.runs.insert({ id: runId, owner: 'ann', goal: id, model: 'demo', approvals: 'none', limits, ...(parent && { parentRunId: parent, depth: 1 }) });
    await store.events.append(runId, [{ key: eventKeys.paused(0, 1, 1), type: 'run.paused', data: { turn: 1, by, reason: id, ...(cause && { cause }) } }]);
    await store.runs.updateState(runId, { status: 'paused' });
    return runId;
  }

  it('resumes the runs below that a person paused, and leaves those that paused themselves to their own resume', async () => {
    const root = await paused('root', undefined, 'ann', 'request');
    const byTree = await paused('by_tree', root, 'ann', 'request');
    const atSegmentCap = await paused('segments', root, 'system', 'segments');
    const outOfBudget = await paused('budget', root, 'system', 'budget');
    // Pauses recorded before they carried a cause: `system` is the run itself, anyone else a person.
    const legacySelf = await paused('legacy_self', root, 'system');
    const legacyPerson = await paused('legacy_person', root, 'ann');
    const grandchild = await paused('grandchild', byTree, 'ann', 'request');
    const steering = new RunSteering({ client, store, owedStarts: new OwedStarts({ client, store, config: loadConfig({ DATA_DIR: os.tmpdir() }), logger: createLogger({ level: 'silent' }) }), getSteerable: async (_caller, id) => (await store.runs.get(id))! });

    await steering.control(ann, root, 'resume');

    expect(told.filter((t) => t.name === 'resume').map((t) => t.runId).sort()).toEqual([root, byTree, legacyPerson, grandchild].sort());
    for (const self of [atSegmentCap, outOfBudget, legacySelf]) expect(told.map((t) => t.runId)).not.toContain(self);

    // Its own resume still resumes it, whatever paused it.
    await steering.control(ann, atSegmentCap, 'resume');
    expect(told.at(-1)).toEqual({ runId: atSegmentCap, name: 'resume' });
    // And a tree's pause still reaches every live run below.
    told.length = 0;
    await steering.control(ann, root, 'pause');
    expect(told.map((t) => t.runId).sort()).toEqual([root, byTree, atSegmentCap, outOfBudget, legacySelf, legacyPerson, grandchild].sort());
  });
});
