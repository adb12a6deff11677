/**
 * Every checkout of a timed pool is timed, both ways pg hands out connections (a client taken, as Kysely does; a
 * query the pool runs itself), once however often the timer is put on, and a wait lasts until a connection is free.
 */
import pg from 'pg';
import { timeConnectionWaits } from '../../shared/store/connection-waits';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

describe('timed connection waits (Postgres)', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: testEnv().postgresUrl, max: 1 });
  });
  afterAll(() => pool.end());

  it('times clients taken and queries the pool runs, each checkout once, until a connection is free', async () => {
    const waits: number[] = [];
    timeConnectionWaits(pool, (ms) => waits.push(ms));
    timeConnectionWaits(pool, (ms) => waits.push(-ms)); // a second timer on the same pool is not put on

    const held = await pool.connect();
    expect(waits).toHaveLength(1);
    // Both wait behind the held client: the pool has one connection.
    const taken = pool.connect();
    const queried = pool.query<{ n: number }>('select 1 as n');
    await waitFor(() => pool.waitingCount === 2);
    const queuedBy = performance.now();
    await held.query('select 1'); // the holder goes on working while they wait
    const heldFor = performance.now() - queuedBy;
    held.release();
    const second = await taken;
    expect(waits).toHaveLength(2);
    second.release();
    expect((await queried).rows).toEqual([{ n: 1 }]);

    expect(waits).toHaveLength(3);
    expect(waits.every((ms) => ms >= 0)).toBe(true);
    // The two queued checkouts waited at least as long as the connection was held after they queued.
    expect(Math.min(waits[1]!, waits[2]!)).toBeGreaterThanOrEqual(heldFor);
  });
});
