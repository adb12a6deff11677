/**
 * Which workers serve which agents, the same on SQLite and Postgres (migration 013): a worker that stopped beating
 * stops counting as live, and one killed without withdrawing is forgotten a day after its last beat, so the rows of
 * dead workers (a new identity at every start) do not pile up.
 */
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

describe.each(['sqlite', 'postgres'] as const)('agent workers on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  const lastBeat = (identity: string, msAgo: number) =>
    store.db
      .updateTable('agent_workers')
      .set({ seen_at: new Date(Date.now() - msAgo).toISOString() })
      .where('identity', '=', identity)
      .execute();
  const rowsOf = async (identity: string) => (await store.db.selectFrom('agent_workers').selectAll().where('identity', '=', identity).execute()).length;

  it('counts a worker live while it beats, not after, and forgets one a day after its last beat', async () => {
    await store.agents.serve('quiet', [{ agent: 'alpha', version: 'v1' }]);
    await store.agents.serve('killed', [{ agent: 'alpha', version: 'v1' }]);
    await lastBeat('quiet', 5 * 60 * 1000);
    await lastBeat('killed', 25 * 3600 * 1000);
    expect((await store.agents.workers('alpha')).map((w) => w.identity)).toEqual([]);

    await store.agents.serve('fresh', [{ agent: 'alpha', version: 'v2' }]);
    expect((await store.agents.workers('alpha')).map((w) => w.identity)).toEqual(['fresh']);
    expect(await rowsOf('quiet')).toBe(1); // not live, but kept: it may beat again
    expect(await rowsOf('killed')).toBe(0);
  });
});
