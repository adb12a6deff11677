import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSqlite, sqliteBindingFor } from '../../shared/store/sqlite-binding';

describe('which better-sqlite3 a Node loads', () => {
  it('gives Node 24 and later the N-API release and older Nodes the one they can run', () => {
    expect(sqliteBindingFor('20.20.2')).toBe('better-sqlite3');
    expect(sqliteBindingFor('22.12.0')).toBe('better-sqlite3');
    expect(sqliteBindingFor('24.0.0')).toBe('better-sqlite3-13');
    expect(sqliteBindingFor('24.21.0')).toBe('better-sqlite3-13');
    expect(sqliteBindingFor('26.1.0')).toBe('better-sqlite3-13');
  });

  it('loads a binding that works on the Node running this test, through many finalised statements', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-sqlite-binding-'));
    const Database = loadSqlite();
    const db = new Database(path.join(dir, 'x.sqlite'));
    try {
      db.exec('create table t (n integer)');
      // Many statements prepared and dropped, as Kysely does; the whole suite on Node 24 is the full check.
      for (let i = 0; i < 2000; i++) db.prepare(`insert into t (n) values (${i})`).run();
      expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 2000 });
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
