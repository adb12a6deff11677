/**
 * What the reaper of abandoned starts reads and deletes, on SQLite and Postgres: the runs that never started
 * (queued, never admitted, never continued, roots) created before a cutoff, oldest first, a page at a time; and the
 * delete of one with its events, which does nothing to a run that has started meanwhile. And the runs whose workflow
 * start is owed (committed by this API, not yet known to Temporal): listed for the sweeper to start, never reaped,
 * their mark kept through the owner's batched queueing and cleared once made. A follow-up's continuation of an ended
 * run owes its lap's start the same way, from the reopen: listed in commit order with the others, its mark cleared
 * only by its own lap's start (a late clear of an earlier lap's leaves it), and a refused one ends that lap failed.
 */
import { eventKeys } from '../../contract/keys';
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
const at = (minutesAgo: number) => new Date(Date.parse('2026-12-06T12:00:00.000Z') - minutesAgo * 60_000).toISOString();
const CUTOFF = at(15);

describe.each(['sqlite', 'postgres'] as const)('unstarted runs on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => {
    await close();
  });

  /** A run queued as the API queues one, with its `run.queued` event, created `minutesAgo` before noon. */
  async function queued(id: string, minutesAgo: number, opts: { parentRunId?: string; owed?: boolean } = {}): Promise<string> {
    const result = await store.queueRun(
      { id, owner: 'alice', goal: id, model: 'demo', approvals: 'none', limits: LIMITS, parentRunId: opts.parentRunId ?? null, ...(opts.owed && { startOwed: true, approvalTimeoutSec: 45 }) },
      1000,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal: id, model: 'demo', approvals: 'none', limits: LIMITS } }],
    );
    if (!('run' in result)) throw new Error('queue full');
    await store.db.updateTable('runs').set({ created_at: at(minutesAgo) }).where('id', '=', id).execute();
    return id;
  }
  const ids = async (q: Parameters<Store['runs']['unstartedBefore']>[0]) => (await store.runs.unstartedBefore(q)).map((r) => r.id);
  const eventCount = async (id: string) => (await store.db.selectFrom('events').select('seq').where('run_id', '=', id).execute()).length;

  it('lists only runs that never started, created before the cutoff, oldest first, a bounded page at a time', async () => {
    await queued('run_u_old_b', 60);
    await queued('run_u_old_a', 60); // same time as b: ordered by id
    await queued('run_u_older', 120);
    await queued('run_u_recent', 20);
    await queued('run_u_young', 5); // after the cutoff
    await queued('run_u_child', 90, { parentRunId: 'run_u_older' });
    await queued('run_u_admitted', 100);
    await store.runs.markAdmitted('run_u_admitted'); // claimed a slot: its workflow runs
    await queued('run_u_running', 100);
    await store.runs.markAdmitted('run_u_running');
    await store.runs.updateState('run_u_running', { status: 'running' });
    await queued('run_u_ended', 100);
    await store.runs.updateState('run_u_ended', { status: 'completed', ended: true });
    await queued('run_u_continued', 100);
    await store.runs.reopen('run_u_continued', LIMITS); // queued again by a follow-up: laps 1

    expect(await ids({ createdBefore: CUTOFF, limit: 100 })).toEqual(['run_u_older', 'run_u_old_a', 'run_u_old_b', 'run_u_recent']);
    const first = await store.runs.unstartedBefore({ createdBefore: CUTOFF, limit: 2 });
    expect(first.map((r) => r.id)).toEqual(['run_u_older', 'run_u_old_a']);
    const last = first[first.length - 1]!;
    expect(await ids({ createdBefore: CUTOFF, limit: 2, after: { createdAt: last.createdAt, id: last.id } })).toEqual(['run_u_old_b', 'run_u_recent']);
    expect(await ids({ createdBefore: at(90), limit: 100 })).toEqual(['run_u_older']);
  });

  it('deletes an unstarted run with its events, and nothing of a run that started or was continued', async () => {
    const ghost = await queued('run_d_ghost', 60);
    const neighbour = await queued('run_d_neighbour', 60);
    expect(await eventCount(ghost)).toBe(1);
    expect(await store.runs.deleteUnstarted(ghost)).toBe(true);
    expect(await store.runs.get(ghost)).toBeUndefined();
    expect(await eventCount(ghost)).toBe(0);
    expect(await eventCount(neighbour)).toBe(1);
    expect(await store.runs.deleteUnstarted(ghost)).toBe(false); // gone already: nothing to do

    // Started between the reaper's question and its delete: admitted (its slot claimed), then running.
    const admitted = await queued('run_d_admitted', 60);
    await store.runs.markAdmitted(admitted);
    const running = await queued('run_d_running', 60);
    await store.runs.markAdmitted(running);
    await store.runs.updateState(running, { status: 'running' });
    const continued = await queued('run_d_continued', 60);
    await store.runs.updateState(continued, { status: 'completed', ended: true });
    await store.runs.reopen(continued, LIMITS);
    const child = await queued('run_d_child', 60, { parentRunId: neighbour });
    for (const id of [admitted, running, continued, child]) {
      expect(await store.runs.deleteUnstarted(id)).toBe(false);
      expect(await store.runs.get(id)).toBeDefined();
      expect(await eventCount(id)).toBe(1);
    }
  });

  it('lists the starts owed before the cutoff for the sweeper, oldest first, a page at a time, and never reaps them', async () => {
    await queued('run_o_old', 60, { owed: true });
    await queued('run_o_older', 120, { owed: true });
    await queued('run_o_young', 5, { owed: true });
    await queued('run_o_not_owed', 60);
    // The continuations queued above owe their starts too: made, they are not this test's.
    await store.runs.startsMade([
      { id: 'run_u_continued', lap: 1 },
      { id: 'run_d_continued', lap: 1 },
    ]);
    const owed = async (q: Parameters<Store['runs']['owedStartsBefore']>[0]) => (await store.runs.owedStartsBefore(q)).map((r) => r.id);

    expect(await owed({ createdBefore: CUTOFF, limit: 100 })).toEqual(['run_o_older', 'run_o_old']);
    const [first] = await store.runs.owedStartsBefore({ createdBefore: CUTOFF, limit: 1 });
    expect(first).toMatchObject({ id: 'run_o_older', startOwed: true, approvalTimeoutSec: 45 });
    expect(await owed({ createdBefore: CUTOFF, limit: 1, after: { createdAt: first!.createdAt, id: first!.id } })).toEqual(['run_o_old']);
    // Owed: started, not reaped, whatever its age.
    expect(await ids({ createdBefore: CUTOFF, limit: 100 })).not.toContain('run_o_old');
    expect(await store.runs.deleteUnstarted('run_o_old')).toBe(false);

    await store.runs.startsMade([{ id: 'run_o_old', lap: 0 }]);
    expect(await store.runs.get('run_o_old')).toMatchObject({ startOwed: false, approvalTimeoutSec: 45 });
    expect(await owed({ createdBefore: CUTOFF, limit: 100 })).toEqual(['run_o_older']);
    // No longer owed, so what the reaper asks Temporal about (a run with no workflow would then be a ghost).
    expect(await ids({ createdBefore: CUTOFF, limit: 100 })).toContain('run_o_old');
    expect((await store.runs.get('run_o_not_owed'))?.startOwed).toBe(false);
  });

  it('owes a continuation’s start from the reopen, its lap’s mark cleared only by that lap’s start', async () => {
    const ended = async (id: string, minutesAgo: number) => {
      await queued(id, minutesAgo);
      await store.runs.markAdmitted(id);
      await store.runs.updateState(id, { status: 'completed', ended: true });
      return id;
    };
    const run = await ended('run_c_run', 130);
    await ended('run_c_other', 125);
    await queued('run_c_first', 127, { owed: true });
    expect(await store.runs.reopen(run, LIMITS)).toBe(1);
    expect(await store.runs.get(run)).toMatchObject({ status: 'queued', admitted: false, laps: 1, startOwed: true, owedStartLap: 1, endedAt: null });
    // Listed with the first starts owed once its lap is as old as theirs (its lap counts from the reopen, not from
    // the run's commit: the API's own tries come first), in commit order whatever lap each owes; never reaped.
    const owed = async () => (await store.runs.owedStartsBefore({ createdBefore: CUTOFF, limit: 100 })).map((r) => r.id).filter((id) => id.startsWith('run_c_'));
    expect(await owed()).toEqual(['run_c_first']);
    await store.db.updateTable('runs').set({ updated_at: new Date(Date.parse(CUTOFF) - 60_000).toISOString() }).where('id', '=', run).execute();
    expect(await owed()).toEqual(['run_c_run', 'run_c_first']);
    expect(await store.runs.deleteUnstarted(run)).toBe(false);

    // A late clear of the first start's mark leaves the continuation's; its own clears it, in a batch with others'.
    await store.runs.startsMade([{ id: run, lap: 0 }]);
    expect((await store.runs.get(run))?.owedStartLap).toBe(1);
    await store.runs.updateState('run_c_other', { status: 'queued' });
    expect(await store.runs.reopen('run_c_other', LIMITS)).toBe(1);
    await store.runs.startsMade([
      { id: run, lap: 1 },
      { id: 'run_c_other', lap: 1 },
      { id: 'run_c_first', lap: 0 },
    ]);
    expect(await store.runs.get(run)).toMatchObject({ startOwed: false, owedStartLap: null, laps: 1 });
    expect((await store.runs.get('run_c_other'))?.startOwed).toBe(false);
    expect((await store.runs.get('run_c_first'))?.startOwed).toBe(false);

    // The next lap's: a clear of the lap before's (a starter that read the row late) leaves it.
    await store.runs.updateState(run, { status: 'completed', ended: true });
    expect(await store.runs.reopen(run, LIMITS)).toBe(2);
    await store.runs.startsMade([{ id: run, lap: 1 }]);
    expect((await store.runs.get(run))?.owedStartLap).toBe(2);

    // Refused for good: the lap ends failed with its own `run.failed`, and nothing is owed.
    const failed = await store.refuseStart(run, 'Temporal refused to start the run: too big');
    expect(failed.map((e) => e.type)).toEqual(['run.failed']);
    expect(await store.events.recordedAt(run, eventKeys.failed(2))).toBeDefined();
    expect(await store.runs.get(run)).toMatchObject({ status: 'failed', startOwed: false, owedStartLap: null, error: { code: 'start_refused' } });
  });

  it('keeps the owed mark through a batch of one owner’s starts', async () => {
    const runs = await Promise.all(
      [0, 1, 2].map((i) =>
        store.queueRun({ id: `run_ob_${i}`, owner: 'batcher', goal: 'g', model: 'demo', approvals: 'none', limits: LIMITS, startOwed: i !== 1, approvalTimeoutSec: i !== 1 ? 30 + i : null }, 100, [
          { key: eventKeys.queued(), type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'none', limits: LIMITS } },
        ]),
      ),
    );
    expect(runs.map((r) => ('run' in r ? [r.run.startOwed, r.run.approvalTimeoutSec] : r))).toEqual([
      [true, 30],
      [false, null],
      [true, 32],
    ]);
  });

  it('deletes within the caller’s transaction, undone with it', async () => {
    const ghost = await queued('run_t_ghost', 60);
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.runs.deleteUnstarted(ghost)).toBe(true);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await store.runs.get(ghost)).toBeDefined();
    expect(await eventCount(ghost)).toBe(1);
  });
});
