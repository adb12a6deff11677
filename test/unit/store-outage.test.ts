/** Which database errors mean "unreachable right now" (503 store_unavailable, retried) and which are bugs (500); activities that wait for the database. */
import net from 'node:net';
import { sql } from 'kysely';
import { MockActivityEnvironment } from '@temporalio/testing';
import { patientWithStore } from '../../activities/store-patience';
import { createLogger } from '../../shared/logger';
import { openDatabase } from '../../shared/store/open-database';
import { isStoreOutage, StoreNoAnswerError } from '../../shared/store/outage';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStoreOutage', () => {
  it.each([
    ['a refused connection', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a server shutting down (57P01)', pgError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['a server with every connection slot taken (53300)', pgError('53300', 'remaining connection slots are reserved for roles with the SUPERUSER attribute')],
    ['a connection exception (08006)', pgError('08006')],
    ['a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['a statement the server never answered (DATABASE_STATEMENT_TIMEOUT_MS)', new StoreNoAnswerError(30_000)],
    ['the cause of a wrapped error', new Error('query failed', { cause: pgError('ECONNRESET') })],
    ['every address refused', Object.assign(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')]), { message: '' })],
  ])('%s is an outage', (_what, err) => {
    expect(isStoreOutage(err)).toBe(true);
  });

  it.each([
    ['a syntax error (42601)', pgError('42601', 'syntax error at or near "selec"')],
    ['a unique violation (23505)', pgError('23505')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('%s is not', (_what, err) => {
    expect(isStoreOutage(err)).toBe(false);
  });
});

describe('a Postgres server that stops answering', () => {
  it('fails a query as an outage after DATABASE_CONNECT_TIMEOUT_MS, not when the kernel gives up on the socket', async () => {
    // Takes the connection and never answers it: a failover, a partition, a host gone without closing its sockets.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const opened = await openDatabase({ databaseUrl: `postgres://longhaul:longhaul@127.0.0.1:${port}/longhaul`, databaseConnectTimeoutMs: 200, dataDir: '', migrate: false });
    try {
      const failure = await sql`select 1`.execute(opened.db).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isStoreOutage(failure)).toBe(true);
      expect(sockets.size).toBe(1); // it did reach the server: the wait was the server's silence
    } finally {
      await opened.db.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('activities waiting for the database (patientWithStore)', () => {
  const refused = () => pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
  const logger = createLogger({ level: 'silent' });
  const env = () => new MockActivityEnvironment({ attempt: 1 });

  it('runs the activity again once the database answers, on the same attempt', async () => {
    let calls = 0;
    let pings = 0;
    const acts = patientWithStore(
      { work: async (n: number) => (++calls === 1 ? Promise.reject(refused()) : n * 2) },
      { store: { ping: async () => (++pings < 3 ? Promise.reject(refused()) : undefined) }, logger, pingEveryMs: 1 },
    );
    await expect(env().run(acts.work, 21)).resolves.toBe(42);
    expect([calls, pings]).toEqual([2, 3]);
  });

  it('fails the attempt at once when the database answers: the refused connection was something else', async () => {
    let calls = 0;
    const acts = patientWithStore({ work: async () => (++calls, Promise.reject(refused())) }, { store: { ping: async () => undefined }, logger, pingEveryMs: 1 });
    await expect(env().run(acts.work, undefined)).rejects.toThrow('ECONNREFUSED');
    expect(calls).toBe(1);
  });

  it('leaves other errors, and local activities, to their retries', async () => {
    const bug = new TypeError('a bug');
    const unreachable = { ping: async () => Promise.reject(refused()) };
    const acts = patientWithStore({ bug: async () => Promise.reject(bug), outage: async () => Promise.reject(refused()) }, { store: unreachable, logger, pingEveryMs: 1 });
    await expect(env().run(acts.bug, undefined)).rejects.toBe(bug);
    await expect(new MockActivityEnvironment({ isLocal: true }).run(acts.outage, undefined)).rejects.toThrow('ECONNREFUSED');
  });

  it('stops waiting when the activity is cancelled', async () => {
    const e = env();
    const acts = patientWithStore({ outage: async () => Promise.reject(refused()) }, { store: { ping: async () => Promise.reject(refused()) }, logger, pingEveryMs: 5 });
    const running = e.run(acts.outage, undefined);
    setTimeout(() => e.cancel(), 30);
    await expect(running).rejects.toBeTruthy();
  });
});
