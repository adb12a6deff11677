/**
 * A run's owner gets at most their concurrency slots on Postgres too, however many runs claim one at
 * once: more claims than the pool has connections neither wait on each other nor slip past the cap.
 * (The per-owner lock was taken on the pool instead of the claim's transaction: it ended at once, and
 * each claim held one connection while it waited for a second — the `load` bench's 200 parked runs
 * starting together stopped there for good.)
 */
import os from 'node:os';
import { createRunActivities } from '../../activities/run-activities';
import type { ActivityDeps } from '../../activities/deps';
import { createStore, type Store } from '../../shared/store';
import { createPostgresDatabase } from '../support/postgres';
import { testEnv } from '../support/test-env';

const RUNS = 25; // more than the pool's 10 connections
const SLOTS = 3;

describe('run slots on Postgres', () => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createPostgresDatabase(testEnv().postgresUrl);
    store = await createStore({ dataDir: os.tmpdir(), databaseUrl: db.url });
    drop = db.drop;
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  it(`admits exactly ${SLOTS} of ${RUNS} runs claiming at once, the oldest, and answers every claim`, async () => {
    const ids = Array.from({ length: RUNS }, (_, i) => `run_slot_${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      await store.runs.insert({ id, owner: 'alice', goal: id, model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
      await new Promise((r) => setTimeout(r, 2)); // distinct creation times: the queue's order
    }
    const { claimRunSlot } = createRunActivities({ store } as unknown as ActivityDeps);
    const claims = Promise.all(ids.map((runId) => claimRunSlot({ runId, owner: 'alice', maxConcurrent: SLOTS })));
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('claims still waiting after 15 s')), 15_000)));
    const answers = await Promise.race([claims, stuck]).finally(() => clearTimeout(timer));
    expect(answers.filter((a) => a.admitted)).toHaveLength(SLOTS);
    expect(answers.slice(0, SLOTS).every((a) => a.admitted)).toBe(true);
    expect(await store.runs.countActive('alice')).toBe(SLOTS);
    // Each waiting run is told its place: the runs still waiting ahead of it (older; at the same time, a smaller id).
    await store.db.updateTable('runs').set({ created_at: (await store.runs.get(ids[5]!))!.createdAt }).where('id', '=', ids[6]!).execute();
    const waiting = await Promise.all(ids.slice(SLOTS).map((runId) => claimRunSlot({ runId, owner: 'alice', maxConcurrent: SLOTS })));
    expect(waiting).toEqual(ids.slice(SLOTS).map((_, i) => ({ admitted: false, ahead: i, active: SLOTS })));
  }, 30_000);
});
