/**
 * A resume names the pause it ends, as the store shows it (the latest `run.paused` key), so a workflow that takes
 * the resume before the pause — its worker died after writing the pause — keeps it for that pause. A run the store
 * does not show paused is resumed as before, naming nothing.
 */
import type { Client } from '@temporalio/client';
import type { Principal } from '../../contract/identity';
import { eventKeys } from '../../contract/keys';
import type { ControlRequest } from '../../contract/run';
import { RunSteering } from '../../api/run-steering';
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
    const steering = new RunSteering({ client, store, getSteerable: async (_caller, id) => (await store.runs.get(id))! });
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
