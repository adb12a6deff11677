/** A store of its own for one test file, on either dialect: a temporary SQLite folder, or a fresh Postgres database. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore, type Store } from '../../shared/store';
import { createPostgresDatabase } from './postgres';
import { testEnv } from './test-env';

/** `databaseUrl`: the Postgres database's, for a second store on it (another process's, as it were). */
export async function openTestStore(dialect: 'sqlite' | 'postgres'): Promise<{ store: Store; close: () => Promise<void>; databaseUrl?: string }> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-store-'));
    const store = await createStore({ dataDir: dir });
    return { store, close: async () => (await store.close(), fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const db = await createPostgresDatabase(testEnv().postgresUrl);
  const store = await createStore({ dataDir: os.tmpdir(), databaseUrl: db.url });
  return {
    store,
    databaseUrl: db.url,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
}
