/**
 * A run's private folder, as tools see it: the worker's local copy of the run's durable workspace
 * (shared/workspaces/workspace-sync.ts). Paths from the model are relative; anything that would
 * leave the folder (absolute paths, "..", symlinks pointing out), name the folder itself, or use
 * the names Longhaul writes its temporary files under is refused.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from './tool';
import { TEMP_PREFIX } from '../../shared/workspaces/workspace-sync';
import { giveBack, SyncSlices } from '../../shared/workspaces/sync-slices';

export interface WorkspaceLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
}

export class Workspace {
  constructor(
    readonly root: string,
    readonly limits: WorkspaceLimits,
  ) {}


  async ensure(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
  }

  /** Resolves a model-supplied relative path to an absolute path inside the workspace. */
  async resolve(relative: string): Promise<string> {
    if (typeof relative !== 'string' || relative.trim() === '') throw new ToolError('path must be a non-empty relative path');
    if (relative.includes('\0')) throw new ToolError('path must not contain NUL characters');
    if (path.isAbsolute(relative) || /^[A-Za-z]:/.test(relative)) throw new ToolError('path must be relative to the workspace');
    const target = path.resolve(this.root, relative);
    if (!isInside(this.root, target)) throw new ToolError(`path escapes the workspace: ${relative}`);
    if (target === path.resolve(this.root)) throw new ToolError('path must name a file or folder inside the workspace, not the workspace itself');
    if (path.relative(this.root, target).split(path.sep).some((part) => part.startsWith(TEMP_PREFIX))) {
      throw new ToolError(`names starting with ${TEMP_PREFIX} are reserved`);
    }
    await this.ensure();
    // Follow symlinks of whatever part exists already; the real location must stay inside too.
    const realRoot = await fs.realpath(this.root);
    let existing = target;
    while (!(await exists(existing))) existing = path.dirname(existing);
    const realExisting = await fs.realpath(existing);
    if (!isInside(realRoot, realExisting)) throw new ToolError(`path escapes the workspace: ${relative}`);
    return target;
  }

  /** Synchronously, a slice of entries at a time: see shared/workspaces/sync-slices.ts for why. */
  async list(): Promise<{ path: string; bytes: number }[]> {
    mkdirSync(this.root, { recursive: true });
    const out: { path: string; bytes: number }[] = [];
    const slices = new SyncSlices();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (slices.due()) await giveBack();
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        // Every file counts toward the caps, temporary ones included: nothing fills the disk unseen.
        else if (entry.isFile()) {
          out.push({ path: path.relative(this.root, full).split(path.sep).join('/'), bytes: statSync(full).size });
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((sum, f) => sum + f.bytes, 0);
  }
}

/** An error message with the worker's local folder replaced by the workspace's own name for it. */
export function withoutHostPaths(message: string, root: string): string {
  return message.split(root).join('<workspace>');
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}
