/**
 * better-sqlite3 compiles a statement on every `prepare`, and Kysely prepares every query anew: a
 * step's ~30 statements were each compiled each time. This keeps compiled statements by their SQL
 * text (least recently used out past `max`) and hands them out again — safe because better-sqlite3
 * runs a statement to completion synchronously (Longhaul never streams rows from SQLite).
 */
import type SqliteDatabase from 'better-sqlite3';

export function cacheStatements(db: SqliteDatabase.Database, max = 500): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const hit = cache.get(source);
    if (hit) {
      cache.delete(source); // most recently used goes to the end
      cache.set(source, hit);
      return hit;
    }
    const statement = prepare(source);
    cache.set(source, statement);
    if (cache.size > max) cache.delete(cache.keys().next().value!);
    return statement;
  }) as typeof db.prepare;
  return db;
}
