/**
 * Durable workspaces: the cost of saving after a small change in a big workspace, and of restoring
 * that workspace on a fresh worker, with the database blob store (SQLite and Postgres) — what every
 * tool call and every move between machines pays.
 *
 * A 1,000-file, 50 MB workspace is saved once; then one file is replaced by 10 KB of new content and
 * the workspace saved again (bytes written: new blobs, plus the manifest row); then a worker with an
 * empty disk restores it. Repeated, medians reported.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore, type Store } from '../shared/store';
import { DatabaseBlobStore } from '../shared/workspaces/blob-store';
import { WorkspaceSync } from '../shared/workspaces/workspace-sync';
import { createPostgresDatabase } from '../test/support/postgres';
import { summarize } from './env';

const FILES = 1000;
const FILE_BYTES = 50 * 1024;
const CHANGE_BYTES = 10 * 1024;

async function measure(store: Store, dir: string, repetitions: number) {
  const blobs = new DatabaseBlobStore(store);
  const caps = { maxFileBytes: 1024 * 1024, maxTotalBytes: 100 * 1024 * 1024, maxEntries: 100_000, maxDepth: 32 };
  const logger = createLogger({ level: 'silent' });
  const saveMs: number[] = [];
  const writtenBytes: number[] = [];
  const manifestBytes: number[] = [];
  const restoreMs: number[] = [];
  let initialSaveMs = 0;
  for (let r = 0; r < repetitions; r++) {
    const runId = `run_bench_ws_${r}`;
    await store.runs.insert({ id: runId, owner: 'bench', goal: 'g', model: 'demo', approvals: 'none', limits: { maxSteps: 1, maxCostUsd: 1, maxDurationSec: 60 } });
    const one = new WorkspaceSync({ store, blobs, dataDir: path.join(dir, `one-${r}`), holder: 'q@one', caps, logger, identity: `one-${r}` });
    await one.prepare(runId);
    const root = one.dir(runId);
    for (let i = 0; i < FILES; i++) {
      const sub = path.join(root, `d${i % 20}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `f${i}.bin`), crypto.randomBytes(FILE_BYTES));
    }
    let t = performance.now();
    await one.save(runId);
    initialSaveMs = performance.now() - t;

    fs.writeFileSync(path.join(root, 'd7', 'f7.bin'), crypto.randomBytes(CHANGE_BYTES));
    t = performance.now();
    const saved = await one.save(runId);
    saveMs.push(performance.now() - t);
    writtenBytes.push(saved.uploadedBytes);
    manifestBytes.push(JSON.stringify((await store.workspaces.get(runId))!.entries).length);

    const fresh = new WorkspaceSync({ store, blobs, dataDir: path.join(dir, `two-${r}`), holder: 'q@two', caps, logger, identity: `two-${r}` });
    t = performance.now();
    await fresh.prepare(runId);
    restoreMs.push(performance.now() - t);
    fs.rmSync(path.join(dir, `one-${r}`), { recursive: true, force: true });
    fs.rmSync(path.join(dir, `two-${r}`), { recursive: true, force: true });
  }
  const ms = (xs: number[]) => Number(summarize(xs).p50.toFixed(1));
  return {
    workspace: { files: FILES, bytes: FILES * FILE_BYTES },
    firstSaveMs: Math.round(initialSaveMs),
    saveAfterOneChange: { ms: ms(saveMs), blobBytesWritten: summarize(writtenBytes).p50, manifestBytes: summarize(manifestBytes).p50 },
    restoreOnFreshWorkerMs: ms(restoreMs),
    goals: { blobBytesWritten: '<= 20 KB + manifest', restoreOnFreshWorkerMs: '<= 1000 (database store)' },
  };
}

export async function workspaceBench(opts: { repetitions?: number } = {}) {
  const repetitions = opts.repetitions ?? 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-ws-bench-'));
  const out: Record<string, unknown> = {};
  try {
    for (const kind of ['sqlite', 'postgres'] as const) {
      const pg = kind === 'postgres' ? await createPostgresDatabase(process.env.LONGHAUL_TEST_POSTGRES_URL!) : undefined;
      const store = await createStore(loadConfig({ DATA_DIR: path.join(dir, kind), ...(pg && { DATABASE_URL: pg.url }) }));
      try {
        out[kind] = await measure(store, path.join(dir, kind), repetitions);
      } finally {
        await store.close();
        await pg?.drop();
      }
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
