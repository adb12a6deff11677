/**
 * A worker writes every streaming run's live text in one statement (LiveTextRepo.putMany): on either dialect each
 * run gets its own row, a later write replaces the text, and a message's late write never goes over a later turn's.
 */
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

describe.each(['sqlite', 'postgres'] as const)('live text on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('writes many runs at once, each its own row, never over a later turn', async () => {
    await store.liveText.putMany([
      { runId: 'a', turn: 1, attempt: 1, text: 'Hel' },
      { runId: 'b', turn: 2, attempt: 1, text: 'Wor' },
    ]);
    await store.liveText.putMany([
      { runId: 'a', turn: 1, attempt: 1, text: 'Hello' },
      { runId: 'b', turn: 3, attempt: 2, text: 'N' },
      { runId: 'c', turn: 1, attempt: 1, text: 'new' },
    ]);
    // b's turn 2 ended after its turn 3 began: its last write arrives late and is not taken.
    await store.liveText.putMany([{ runId: 'b', turn: 2, attempt: 1, text: 'World' }]);
    const rows = (await store.liveText.getMany(['a', 'b', 'c'])).sort((x, y) => x.runId.localeCompare(y.runId));
    expect(rows).toEqual([
      { runId: 'a', turn: 1, attempt: 1, text: 'Hello' },
      { runId: 'b', turn: 3, attempt: 2, text: 'N' },
      { runId: 'c', turn: 1, attempt: 1, text: 'new' },
    ]);
  });
});
