/**
 * Which better-sqlite3 this process loads. Two are installed because no single release runs on every Node
 * Longhaul supports: 12's native classes are finalised through ObjectWrap cleanup hooks that Node 24.19+ asserts
 * on (the process aborts in `Statement::~Statement` after a garbage collection), and 13, built on N-API with
 * prebuilt binaries that fix this, crashes on Node 20 — which this machine's CI still runs. Both have the same
 * API, so everything else imports the type only and gets the constructor from here.
 */
import type SqliteDatabase from 'better-sqlite3';

export type SqliteConstructor = typeof SqliteDatabase;

export function sqliteBindingFor(nodeVersion: string): 'better-sqlite3' | 'better-sqlite3-13' {
  const major = Number(nodeVersion.split('.')[0]);
  return major >= 24 ? 'better-sqlite3-13' : 'better-sqlite3';
}

/** The constructor for this process (`require`, not `import`: which module is a run-time choice). */
export function loadSqlite(): SqliteConstructor {
  return sqliteBindingFor(process.versions.node) === 'better-sqlite3-13' ? require('better-sqlite3-13') : require('better-sqlite3');
}
