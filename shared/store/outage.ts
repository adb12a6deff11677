/**
 * Whether an error means the database cannot be reached right now (down, restarting, the network between), as
 * opposed to a query that is wrong: the first is a wait-and-retry for callers (the API answers 503
 * `store_unavailable`; activities retry), the second a bug.
 */

/** Socket-level failures of a connection, as Node names them. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Postgres SQLSTATEs of a server that is going away or not taking connections: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or in recovery), and 53300
 * too_many_connections (every slot taken, by this deployment's pools or anyone else's: it passes as they close).
 */
const SERVER_GONE = /^(08...|57P0[123]|53300)$/;

/** What node-postgres throws when the server closes the socket under it, or no pooled connection comes in time. */
const CONNECTION_LOST = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * What a Postgres statement fails with when the server sent no answer within DATABASE_STATEMENT_TIMEOUT_MS
 * (open-database.ts), and every later statement on the connection that was closed for it (a transaction's rollback).
 */
export class StoreNoAnswerError extends Error {
  constructor(timeoutMs: number) {
    super(`Postgres sent no answer to a statement within ${timeoutMs} ms (DATABASE_STATEMENT_TIMEOUT_MS); its connection was closed`);
    this.name = 'StoreNoAnswerError';
  }
}

export function isStoreOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StoreNoAnswerError) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GONE.test(code))) return true;
    if (typeof message === 'string' && CONNECTION_LOST.test(message)) return true;
    // An AggregateError (several addresses tried, each refused).
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0 && errors.every((x) => isStoreOutage(x))) return true;
  }
  return false;
}
