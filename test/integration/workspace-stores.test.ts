/**
 * Durable workspaces on each blob store — the database (SQLite) and a real S3-compatible server
 * (moto) — through the same tests: blobs by content hash, a workspace saved incrementally (the
 * changed bytes, not the workspace's size), restored on another "machine" (another DATA_DIR)
 * with files, empty folders and modes intact, changes a workspace may not keep undone, and
 * released blobs gone.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { DatabaseBlobStore, type BlobStore } from '../../shared/workspaces/blob-store';
import { releaseWorkspace } from '../../shared/workspaces/release-workspace';
import { S3BlobStore } from '../../shared/workspaces/s3-blob-store';
import { WorkspaceRefused, WorkspaceSync } from '../../shared/workspaces/workspace-sync';
import { startS3Server, type S3Server } from '../support/s3-server';

const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');

describe.each(['database', 's3'] as const)('durable workspaces on the %s blob store', (kind) => {
  let dir: string;
  let store: Store;
  let s3: S3Server | undefined;
  let blobs: BlobStore;
  const logger = createLogger({ level: 'silent' });
  const caps = { maxFileBytes: 64 * 1024, maxTotalBytes: 256 * 1024 };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-ws-'));
    store = await createStore(loadConfig({ DATA_DIR: dir }));
    if (kind === 's3') {
      s3 = await startS3Server();
      blobs = new S3BlobStore(`s3://${s3.bucket}/workspaces`);
    } else blobs = new DatabaseBlobStore(store);
  });
  afterAll(async () => {
    await store.close();
    await s3?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A worker on its own machine: its own DATA_DIR, its own process id. */
  const machine = (name: string, processId: number) =>
    new WorkspaceSync({ store, blobs, dataDir: path.join(dir, name), holder: `q@${name}`, caps, logger, processId });
  const newRun = async (id: string) =>
    store.runs.insert({ id, owner: 'u', goal: 'g', model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });

  it('stores blobs by content hash: put, missing, get, delete', async () => {
    const a = Buffer.from('alpha');
    expect(await blobs.missing('run_blob', [sha(a), sha('beta')])).toEqual([sha(a), sha('beta')]);
    await blobs.put('run_blob', sha(a), a);
    await blobs.put('run_blob', sha(a), a); // the same content twice is one blob
    expect(await blobs.missing('run_blob', [sha(a), sha('beta')])).toEqual([sha('beta')]);
    expect((await blobs.get('run_blob', sha(a))).toString()).toBe('alpha');
    await blobs.deleteRun('run_blob');
    expect(await blobs.missing('run_blob', [sha(a)])).toEqual([sha(a)]);
    await expect(blobs.get('run_blob', sha(a))).rejects.toThrow(/missing/);
  });

  it('saves only what changed and restores it all on another machine', async () => {
    await newRun('run_sync');
    const one = machine('one', 1001);
    await one.prepare('run_sync');
    const root = one.dir('run_sync');
    fs.mkdirSync(path.join(root, 'docs/empty'), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, `docs/f${i}.txt`), `file ${i} `.repeat(500));
    fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'copy.txt'), `file 0 `.repeat(500)); // same content as docs/f0.txt
    const first = await one.save('run_sync');
    expect(first).toMatchObject({ changed: true, files: 22 });
    // Deduplicated: 21 distinct contents uploaded, not 22.
    expect(first.uploadedBytes).toBe(first.bytes - fs.statSync(path.join(root, 'copy.txt')).size);

    // One small change costs its own bytes, however big the workspace is.
    fs.writeFileSync(path.join(root, 'docs/f3.txt'), 'changed');
    const second = await one.save('run_sync');
    expect(second).toMatchObject({ changed: true, uploadedBytes: 7 });
    expect(await one.save('run_sync')).toMatchObject({ changed: false, uploadedBytes: 0 });

    // Another machine restores the current version: files, contents, modes, empty folders.
    const two = machine('two', 1002);
    const restored = await two.prepare('run_sync');
    expect(restored).toMatchObject({ files: 22, bytes: second.bytes });
    const copy = two.dir('run_sync');
    expect(fs.readFileSync(path.join(copy, 'docs/f3.txt'), 'utf8')).toBe('changed');
    expect(fs.readFileSync(path.join(copy, 'docs/f7.txt'), 'utf8')).toBe('file 7 '.repeat(500));
    expect(fs.statSync(path.join(copy, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(copy, 'docs/empty')).isDirectory()).toBe(true);
    // Holding the current version, it does not restore again.
    expect(await two.prepare('run_sync')).toBeNull();
    expect(await store.workspaces.get('run_sync')).toMatchObject({ state: 'active', holder: 'q@two', version: 2 });
  });

  it('undoes a change the workspace may not keep: over a cap, or a symlink', async () => {
    await newRun('run_caps');
    const w = machine('caps', 1003);
    await w.prepare('run_caps');
    const root = w.dir('run_caps');
    fs.writeFileSync(path.join(root, 'keep.txt'), 'kept');
    await w.save('run_caps');
    // A tool that writes past the per-file cap, however it writes (no workspace_write involved).
    fs.writeFileSync(path.join(root, 'huge.bin'), Buffer.alloc(caps.maxFileBytes + 1));
    await expect(w.save('run_caps')).rejects.toBeInstanceOf(WorkspaceRefused);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    // Many files under the cap each, over the workspace's cap together; temporary names count too.
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(root, `.longhaul-tmp-${i}`), Buffer.alloc(caps.maxFileBytes));
    await expect(w.save('run_caps')).rejects.toThrow(/over 262144 bytes, its limit/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
    await expect(w.save('run_caps')).rejects.toThrow(/symbolic link/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    expect(await store.workspaces.get('run_caps')).toMatchObject({ version: 1, files: 1 });
  });

  it('at start, removes the folders of worker processes on the machine that are gone, and only those', async () => {
    const dataDir = path.join(dir, 'leftovers');
    const dead = 2 ** 22 + 17; // above any pid this machine hands out
    for (const pid of [dead, process.pid, process.ppid]) fs.mkdirSync(path.join(dataDir, 'workspaces', `w-${pid}`, 'run_x'), { recursive: true });
    const w = new WorkspaceSync({ store, blobs, dataDir, holder: 'q@start', caps, logger, processId: 4242 });
    expect(await w.removeLeftovers()).toEqual([`w-${dead}`]);
    expect(fs.readdirSync(path.join(dataDir, 'workspaces')).sort()).toEqual([`w-${process.pid}`, `w-${process.ppid}`, 'w-4242'].sort());
  });

  it('releases: the blobs go, the state says so, once', async () => {
    await newRun('run_release');
    const w = machine('release', 1004);
    await w.prepare('run_release');
    fs.writeFileSync(path.join(w.dir('run_release'), 'a.txt'), 'a');
    await w.save('run_release');
    const events = await releaseWorkspace({ store, blobs }, 'run_release', 'request');
    expect(events.map((e) => [e.type, e.data])).toEqual([['workspace.released', { reason: 'request' }]]);
    expect(await releaseWorkspace({ store, blobs }, 'run_release', 'retention')).toEqual([]);
    expect(await blobs.missing('run_release', [sha('a')])).toEqual([sha('a')]);
    expect(await store.workspaces.get('run_release')).toMatchObject({ state: 'released', files: 0, entries: [] });
  });
});
