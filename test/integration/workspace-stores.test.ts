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
import { LEFTOVER_AFTER_MS, WorkspaceRefused, WorkspaceSync } from '../../shared/workspaces/workspace-sync';
import { startS3Server, type S3Server } from '../support/s3-server';

const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');

describe.each(['database', 's3'] as const)('durable workspaces on the %s blob store', (kind) => {
  let dir: string;
  let store: Store;
  let s3: S3Server | undefined;
  let blobs: BlobStore;
  const logger = createLogger({ level: 'silent' });
  const caps = { maxFileBytes: 64 * 1024, maxTotalBytes: 256 * 1024, maxEntries: 100, maxDepth: 8 };

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

  /** A worker on its own machine: its own DATA_DIR, its own identity. */
  const machine = (name: string, n: number) =>
    new WorkspaceSync({ store, blobs, dataDir: path.join(dir, name), holder: `q@${name}`, caps, logger, identity: `${name}-${n}` });
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
    await expect(w.save('run_caps')).rejects.toThrow(/over 262144 bytes \(files and the list of them\), its limit/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
    await expect(w.save('run_caps')).rejects.toThrow(/symbolic link/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    expect(await store.workspaces.get('run_caps')).toMatchObject({ version: 1, files: 1 });
  });

  it('at start, removes the folders of worker processes that are gone, and only those', async () => {
    const dataDir = path.join(dir, 'leftovers');
    const folder = (name: string) => path.join(dataDir, 'workspaces', name);
    const dead = 2 ** 22 + 17; // above any pid this machine hands out
    // Folders from before identities are named by pid: gone when that pid is.
    for (const pid of [dead, process.pid, process.ppid]) fs.mkdirSync(path.join(folder(`w-${pid}`), 'run_x'), { recursive: true });
    // A live worker elsewhere on the disk (another container: the same pid) and one that died long ago.
    const live = new WorkspaceSync({ store, blobs, dataDir, holder: 'q@live', caps, logger, identity: 'box-a-1-aaaa' });
    const gone = new WorkspaceSync({ store, blobs, dataDir, holder: 'q@gone', caps, logger, identity: 'box-b-1-bbbb' });
    for (const w of [live, gone]) {
      await w.markAlive();
      fs.mkdirSync(path.join(w.root, 'run_y'), { recursive: true });
    }
    const longAgo = new Date(Date.now() - LEFTOVER_AFTER_MS - 60_000);
    fs.utimesSync(path.join(gone.root, '.alive'), longAgo, longAgo);
    const w = new WorkspaceSync({ store, blobs, dataDir, holder: 'q@start', caps, logger, identity: 'box-c-1-cccc' });
    expect((await w.removeLeftovers()).sort()).toEqual([`w-${dead}`, 'w-box-b-1-bbbb'].sort());
    expect(fs.readdirSync(path.join(dataDir, 'workspaces')).sort()).toEqual([`w-${process.pid}`, `w-${process.ppid}`, 'w-box-a-1-aaaa', 'w-box-c-1-cccc'].sort());
    expect(fs.existsSync(path.join(live.root, 'run_y'))).toBe(true);
  });

  it('counts folders and the manifest against the caps, and caps depth and entries', async () => {
    await newRun('run_folders');
    const w = machine('folders', 1005);
    await w.prepare('run_folders');
    const root = w.dir('run_folders');
    fs.writeFileSync(path.join(root, 'keep.txt'), 'kept');
    await w.save('run_folders');
    // Deeper than the cap: refused, however few bytes.
    fs.mkdirSync(path.join(root, 'a/b/c/d/e/f/g/h/i'), { recursive: true });
    await expect(w.save('run_folders')).rejects.toThrow(/a\/b\/c\/d\/e\/f\/g\/h\/i is over 8 folders deep/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    // Empty folders count as entries.
    for (let i = 0; i < caps.maxEntries; i++) fs.mkdirSync(path.join(root, `d${i}`));
    await expect(w.save('run_folders')).rejects.toThrow(/over 100 files and folders/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    // One-byte files under long folder names: the manifest's size counts against the total.
    await newRun('run_manifest');
    const tight = new WorkspaceSync({ store, blobs, dataDir: path.join(dir, 'tight'), holder: 'q@tight', caps: { ...caps, maxTotalBytes: 16 * 1024 }, logger, identity: 'tight-1' });
    await tight.prepare('run_manifest');
    const tightRoot = tight.dir('run_manifest');
    const long = 'x'.repeat(200);
    for (let i = 0; i < 6; i++) {
      fs.mkdirSync(path.join(tightRoot, `${long}${i}`, long, long, long, long, long, long), { recursive: true });
      fs.writeFileSync(path.join(tightRoot, `${long}${i}`, long, long, long, long, long, long, 'f.txt'), '1');
    }
    await expect(tight.save('run_manifest')).rejects.toThrow(/over 16384 bytes \(files and the list of them\)/);
    expect(fs.readdirSync(tightRoot)).toEqual([]);
    expect(await store.workspaces.get('run_folders')).toMatchObject({ version: 1, files: 1 });
  });

  it('refuses a hard link to a file outside the workspace (symlinks are refused already), leaving that file alone', async () => {
    await newRun('run_hardlink');
    const w = machine('hardlink', 1006);
    await w.prepare('run_hardlink');
    const root = w.dir('run_hardlink');
    fs.writeFileSync(path.join(root, 'keep.txt'), 'kept');
    await w.save('run_hardlink');
    const outside = path.join(dir, 'outside-secret.txt');
    fs.writeFileSync(outside, 'not the run\'s');
    fs.linkSync(outside, path.join(root, 'looks-innocent.txt'));
    await expect(w.save('run_hardlink')).rejects.toThrow(/looks-innocent.txt is a hard link/);
    expect(fs.readdirSync(root)).toEqual(['keep.txt']);
    expect(fs.readFileSync(outside, 'utf8')).toBe('not the run\'s');
    expect(await store.workspaces.get('run_hardlink')).toMatchObject({ version: 1, files: 1 });
    fs.rmSync(outside);
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
