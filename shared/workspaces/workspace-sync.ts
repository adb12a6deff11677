/**
 * A worker's local workspace folders as caches of the durable copy. Before a tool call the folder
 * is made the run's current version (restored from the blob store when this worker does not hold
 * it); after the call, what changed is found (size, mtime and mode first, content hash only for
 * files that differ) and saved — new contents as blobs, then a new manifest version — before the
 * tool's result is recorded. Saving costs the changed bytes, not the workspace's size.
 *
 * Each worker process keeps its folders under its own directory (`DATA_DIR/workspaces/w-<identity>`,
 * the identity unique across machines and containers: worker/worker-queue.ts), so processes sharing
 * a disk never touch each other's copies. A live worker touches its directory's `.alive` mark; a
 * directory whose mark has gone stale belonged to a process that died, and the next worker to start
 * removes it.
 *
 * Caps count everything a workspace keeps: file bytes and the manifest's own size against the
 * total, files and folders against the entry cap, and folder depth. Only regular files with one
 * link and folders are kept: a symbolic or hard link could bring in a file from outside.
 */
import crypto from 'node:crypto';
import { existsSync, lstatSync, readdirSync, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ManifestEntry } from '../../contract/workspace';
import { eventKeys } from '../../contract/keys';
import type { RunEvent } from '../../contract/events';
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { BlobStore } from './blob-store';
import { giveBack, SyncSlices } from './sync-slices';

export interface WorkspaceCaps {
  maxFileBytes: number;
  /** File bytes plus the manifest's own size (paths of files and folders). */
  maxTotalBytes: number;
  /** Files and folders. */
  maxEntries: number;
  /** Folders deep (`a/b/c.txt` is 3). */
  maxDepth: number;
}

/** How often a live worker touches its folder's `.alive` mark. */
export const ALIVE_EVERY_MS = 30_000;
/** A worker folder whose mark is older than this belongs to a process that is gone. */
export const LEFTOVER_AFTER_MS = 10 * 60_000;
const ALIVE_MARK = '.alive';

/** A change a tool made that the workspace may not keep (over a cap, a symlink): it is undone. */
export class WorkspaceRefused extends Error {}

interface Held {
  version: number;
  entries: Map<string, ManifestEntry>;
  usedMs: number;
}

export interface Restore {
  files: number;
  bytes: number;
  ms: number;
  cycle: number;
}

export const TEMP_PREFIX = '.longhaul-tmp-';

/** Blobs fetched per request when restoring, and bytes per write when saving: few round trips, bounded memory. */
const RESTORE_BATCH = 64;
const SAVE_BATCH_BYTES = 4 * 1024 * 1024;

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

function safeRunId(runId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new Error(`unsafe run id for a workspace: ${runId}`);
  return runId;
}

export class WorkspaceSync {
  private readonly held = new Map<string, Held>();
  /** Runs with a tool call in progress here: never hibernated under it. */
  private readonly busy = new Map<string, number>();
  readonly root: string;

  constructor(
    private readonly opts: { store: Store; blobs: BlobStore; dataDir: string; holder: string; caps: WorkspaceCaps; logger: Logger; identity: string },
  ) {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.identity)) throw new Error(`unsafe worker identity for a folder name: ${opts.identity}`);
    this.root = path.join(opts.dataDir, 'workspaces', `w-${opts.identity}`);
  }

  get holder(): string {
    return this.opts.holder;
  }

  /** Whether this worker holds files or folders of the run: only then is it worth sending the run's tool calls here. */
  holdsContent(runId: string): boolean {
    return (this.held.get(runId)?.entries.size ?? 0) > 0;
  }

  get blobs(): BlobStore {
    return this.opts.blobs;
  }

  dir(runId: string): string {
    return path.join(this.root, safeRunId(runId));
  }

  /** Runs `fn` with the run marked busy (a tool call in progress). */
  async using<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    this.busy.set(runId, (this.busy.get(runId) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.busy.get(runId) ?? 1) - 1;
      if (n > 0) this.busy.set(runId, n);
      else this.busy.delete(runId);
      const held = this.held.get(runId);
      if (held) held.usedMs = Date.now();
    }
  }

  /** Makes the local folder the run's current version. Returns what a restore did, or null when none was needed. */
  async prepare(runId: string): Promise<Restore | null> {
    const dir = this.dir(runId);
    const head = await this.opts.store.workspaces.headOf(runId);
    const mine = this.held.get(runId);
    // The usual case: this worker holds the current version. No manifest read, nothing to do.
    if (head && head.state !== 'released' && mine && mine.version === head.version && stillThere(dir)) return null;
    // Nothing saved yet and this worker already set the empty workspace up (and looked for a legacy folder then).
    if (!head && mine && mine.version === 0 && stillThere(dir)) return null;
    const record = head ? await this.opts.store.workspaces.get(runId) : undefined;
    if (!record || record.state === 'released') {
      // Nothing durable: a fresh workspace (after a release, whatever this worker still had goes too).
      if (record?.state === 'released' && mine && mine.version !== record.version) await fs.rm(dir, { recursive: true, force: true });
      if (!mine || mine.version !== (record?.version ?? 0)) {
        await fs.rm(dir, { recursive: true, force: true });
        this.held.set(runId, { version: record?.version ?? 0, entries: new Map(), usedMs: Date.now() });
      }
      await fs.mkdir(dir, { recursive: true });
      if (!record) await this.adoptLegacyFolder(runId, dir);
      return null;
    }
    if (mine && mine.version === record.version && stillThere(dir)) return null;

    const started = performance.now();
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    const entries = new Map<string, ManifestEntry>();
    let bytes = 0;
    const dirs = record.entries.filter((e) => e.kind === 'dir').sort((a, b) => a.path.length - b.path.length);
    for (const d of dirs) await fs.mkdir(path.join(dir, d.path), { recursive: true });
    const files = record.entries.filter((e): e is Extract<ManifestEntry, { kind: 'file' }> => e.kind === 'file');
    for (let i = 0; i < files.length; i += RESTORE_BATCH) {
      const batch = files.slice(i, i + RESTORE_BATCH);
      const data = await this.opts.blobs.getMany(runId, [...new Set(batch.map((f) => f.hash))]);
      // Written side by side: the file system's threads overlap what one after another would wait for.
      await Promise.all(
        batch.map(async (e) => {
          const file = path.join(dir, e.path);
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(file, data.get(e.hash)!, { mode: e.mode & 0o777 });
          await fs.chmod(file, e.mode & 0o777);
          const stat = await fs.stat(file);
          entries.set(e.path, { ...e, mtimeMs: stat.mtimeMs });
          bytes += e.size;
        }),
      );
    }
    // Modes of directories last: a read-only directory is filled before it is made read-only.
    for (const d of dirs.reverse()) {
      await fs.chmod(path.join(dir, d.path), d.mode & 0o777);
      entries.set(d.path, d);
    }
    this.held.set(runId, { version: record.version, entries, usedMs: Date.now() });
    const ms = Math.round(performance.now() - started);
    const cycle = await this.opts.store.workspaces.restored(runId, this.opts.holder, ms, bytes);
    return { files: record.files, bytes, ms, cycle };
  }

  /**
   * Saves what changed since the version this worker holds. Refuses (and undoes) a change the
   * workspace may not keep. Returns whether a new version was written.
   */
  async save(runId: string): Promise<{ changed: boolean; uploadedBytes: number; files: number; bytes: number }> {
    const dir = this.dir(runId);
    const mine = this.held.get(runId) ?? { version: (await this.opts.store.workspaces.get(runId))?.version ?? 0, entries: new Map(), usedMs: Date.now() };
    let scanned: ManifestEntry[];
    try {
      scanned = await this.scan(dir, mine.entries);
    } catch (err) {
      if (err instanceof WorkspaceRefused) await this.undo(runId);
      throw err;
    }
    const files = scanned.filter((e): e is Extract<ManifestEntry, { kind: 'file' }> => e.kind === 'file');
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (sameEntries(scanned, mine.entries)) {
      // Same content; keep the new mtimes so the next scan does not hash these files again.
      this.held.set(runId, { version: mine.version, entries: new Map(scanned.map((e) => [e.path, e])), usedMs: Date.now() });
      return { changed: false, uploadedBytes: 0, files: files.length, bytes };
    }
    const known = new Set([...mine.entries.values()].flatMap((e) => (e.kind === 'file' ? [e.hash] : [])));
    const fresh = [...new Set(files.map((f) => f.hash).filter((h) => !known.has(h)))];
    const missing = new Set(await this.opts.blobs.missing(runId, fresh));
    let uploadedBytes = 0;
    let batch: { hash: string; data: Buffer }[] = [];
    let batchBytes = 0;
    const flush = async () => {
      await this.opts.blobs.putMany(runId, batch);
      batch = [];
      batchBytes = 0;
    };
    for (const f of files) {
      if (!missing.has(f.hash)) continue;
      missing.delete(f.hash);
      const data = await fs.readFile(path.join(dir, f.path));
      // The file may have changed since it was hashed; store what the manifest says, or fail the save.
      if (sha256(data) !== f.hash) throw new Error(`${f.path} changed while the workspace was being saved`);
      batch.push({ hash: f.hash, data });
      batchBytes += data.length;
      uploadedBytes += data.length;
      if (batchBytes >= SAVE_BATCH_BYTES) await flush();
    }
    await flush();
    const committed = await this.opts.store.workspaces.commit(runId, mine.version, scanned, this.opts.holder, bytes);
    if (!committed) throw new Error(`workspace of ${runId} changed elsewhere while this worker saved it`);
    this.held.set(runId, { version: mine.version + 1, entries: new Map(scanned.map((e) => [e.path, e])), usedMs: Date.now() });
    return { changed: true, uploadedBytes, files: files.length, bytes };
  }

  /** Puts the folder back to the last saved version. */
  private async undo(runId: string): Promise<void> {
    this.held.delete(runId);
    await fs.rm(this.dir(runId), { recursive: true, force: true });
    await this.prepare(runId);
  }

  /** Every entry under `dir`, hashing only files whose size, mtime or mode differ from `previous`. */
  private async scan(dir: string, previous: Map<string, ManifestEntry>): Promise<ManifestEntry[]> {
    const { maxFileBytes, maxTotalBytes, maxEntries, maxDepth } = this.opts.caps;
    const out: ManifestEntry[] = [];
    let total = 0;
    /** Each entry costs its line in the manifest, so deep or many folders count against the total too. */
    const add = (entry: ManifestEntry, bytes: number) => {
      out.push(entry);
      if (out.length > maxEntries) throw new WorkspaceRefused(`the workspace would hold over ${maxEntries} files and folders, its limit, so the change was undone`);
      total += bytes + Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (total > maxTotalBytes) throw new WorkspaceRefused(`the workspace would hold over ${maxTotalBytes} bytes (files and the list of them), its limit, so the change was undone`);
    };
    // Metadata synchronously, a slice at a time (./sync-slices.ts); a changed file's content asynchronously.
    const slices = new SyncSlices();
    const walk = async (rel: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
        throw err;
      }
      for (const entry of entries) {
        if (slices.due()) await giveBack();
        const relPath = rel ? `${rel}/${entry.name}` : entry.name;
        const full = path.join(dir, relPath);
        const stat = lstatSync(full);
        if (stat.isSymbolicLink()) throw new WorkspaceRefused(`${relPath} is a symbolic link; workspaces keep only files and folders, so the change was undone`);
        if (relPath.split('/').length > maxDepth) throw new WorkspaceRefused(`${relPath} is over ${maxDepth} folders deep, the limit, so the change was undone`);
        if (stat.isDirectory()) {
          add({ path: relPath, kind: 'dir', mode: stat.mode & 0o7777 }, 0);
          await walk(relPath);
        } else if (stat.isFile()) {
          // A hard link shares its content with a file that may be outside the workspace.
          if (stat.nlink > 1) throw new WorkspaceRefused(`${relPath} is a hard link (one of ${stat.nlink} names of one file); workspaces keep only files of their own, so the change was undone`);
          if (stat.size > maxFileBytes) throw new WorkspaceRefused(`${relPath} is ${stat.size} bytes, over the ${maxFileBytes}-byte file limit, so the change was undone`);
          const before = previous.get(relPath);
          const mode = stat.mode & 0o7777;
          const unchanged = before?.kind === 'file' && before.size === stat.size && before.mtimeMs === stat.mtimeMs && before.mode === mode;
          const hash = unchanged ? before.hash : sha256(await fs.readFile(full));
          add({ path: relPath, kind: 'file', hash, size: stat.size, mode, mtimeMs: stat.mtimeMs }, stat.size);
        } else {
          throw new WorkspaceRefused(`${relPath} is not a regular file or folder, so the change was undone`);
        }
      }
    };
    await walk('');
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /**
   * Drops local copies unused for `idleMs` whose durable copy is current: the run is waiting. The
   * database says `hibernated` and the run's events say so.
   */
  async hibernateIdle(idleMs: number): Promise<{ runId: string; events: RunEvent[] }[]> {
    const dropped: { runId: string; events: RunEvent[] }[] = [];
    for (const [runId, held] of this.held) {
      if (this.busy.has(runId) || Date.now() - held.usedMs < idleMs) continue;
      const current = await this.scan(this.dir(runId), held.entries).catch(() => null);
      if (!current || !sameEntries(current, held.entries)) continue; // changed outside a tool call: leave it
      const hibernated = await this.opts.store.workspaces.hibernate(runId, this.opts.holder, held.version);
      // Not ours any more (another worker took over, or it was released): drop our stale copy all the same.
      await fs.rm(this.dir(runId), { recursive: true, force: true });
      this.held.delete(runId);
      if (!hibernated) continue;
      const events = await this.opts.store.events.append(runId, [
        { key: eventKeys.workspaceHibernated(hibernated.cycle), type: 'workspace.hibernated', data: { files: hibernated.files, bytes: hibernated.bytes } },
      ]);
      dropped.push({ runId, events });
    }
    return dropped;
  }

  /** Drops this worker's copy of a run (after a release). */
  async forget(runId: string): Promise<void> {
    this.held.delete(runId);
    await fs.rm(this.dir(runId), { recursive: true, force: true });
  }

  heldRuns(): string[] {
    return [...this.held.keys()];
  }


  /** Says this worker is alive to other workers on the same disk (every ALIVE_EVERY_MS). */
  async markAlive(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    const now = new Date();
    await fs.utimes(path.join(this.root, ALIVE_MARK), now, now).catch(() => fs.writeFile(path.join(this.root, ALIVE_MARK), ''));
  }

  /**
   * At worker start: removes the folders of worker processes that are gone — a folder whose
   * `.alive` mark is over LEFTOVER_AFTER_MS old, or a `w-<pid>` folder (from before identities) of
   * a pid not running here — and nothing of live ones. A folder of a run from before durable
   * workspaces is adopted at its first tool call instead (see adoptLegacyFolder).
   */
  async removeLeftovers(now = Date.now()): Promise<string[]> {
    await this.markAlive();
    const parent = path.dirname(this.root);
    const removed: string[] = [];
    for (const name of await fs.readdir(parent).catch(() => [] as string[])) {
      const folder = path.join(parent, name);
      if (!name.startsWith('w-') || folder === this.root) continue;
      const pid = /^w-(\d+)$/.exec(name)?.[1];
      const gone = pid ? !isAlive(Number(pid)) : now - (await lastAlive(folder)) > LEFTOVER_AFTER_MS;
      if (!gone) continue;
      await fs.rm(folder, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** A run that started before durable workspaces has its folder at DATA_DIR/workspaces/<runId>: move it in. */
  private async adoptLegacyFolder(runId: string, dir: string): Promise<void> {
    const legacy = path.join(path.dirname(this.root), runId);
    if (!(await exists(legacy))) return;
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(legacy, dir);
    this.opts.logger.info({ runId }, 'adopted a workspace folder from before durable workspaces');
  }
}

function sameEntries(list: ManifestEntry[], map: Map<string, ManifestEntry>): boolean {
  if (list.length !== map.size) return false;
  for (const e of list) {
    const other = map.get(e.path);
    if (!other || other.kind !== e.kind || other.mode !== e.mode) return false;
    if (e.kind === 'file' && (other.kind !== 'file' || other.hash !== e.hash || other.size !== e.size)) return false;
  }
  return true;
}

/** When the folder's worker last said it was alive (the folder's own time when it never did). */
async function lastAlive(folder: string): Promise<number> {
  const mark = await fs.stat(path.join(folder, ALIVE_MARK)).catch(() => null);
  if (mark) return mark.mtimeMs;
  return (await fs.stat(folder).catch(() => null))?.mtimeMs ?? 0;
}

/**
 * Whether the folder this worker set up is still there, on every tool call's path: one stat, synchronous,
 * because the asynchronous one waits for a thread of libuv's pool (~2 ms a tool call on a loaded machine).
 */
function stillThere(dir: string): boolean {
  return existsSync(dir);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
