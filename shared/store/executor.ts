import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

/** A plain connection or an open transaction; repositories accept either. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Runs `fn` in a transaction, joining the caller's if one is already open. */
export async function inTransaction<T>(db: Executor, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<Database>);
  return db.transaction().execute(fn);
}

export const nowIso = (): string => new Date().toISOString();

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}
