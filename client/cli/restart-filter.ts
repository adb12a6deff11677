/** Which file changes under a worker entry's folder restart `longhaul dev`'s worker (dev.ts). */
import path from 'node:path';

const WATCHED_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

/** Whether a change to `file` (relative to the watched folder) should restart the worker. */
export function restartsWorker(file: string, ignoredDirs: string[] = []): boolean {
  const parts = file.split(/[\\/]/);
  if (parts.some((p) => p === 'node_modules' || p.startsWith('.'))) return false;
  if (ignoredDirs.some((dir) => file === dir || file.startsWith(`${dir}${path.sep}`))) return false;
  return WATCHED_EXTENSIONS.has(path.extname(file));
}
