/**
 * Loads a developer's worker entry: a TypeScript or JavaScript module (CommonJS or ESM) whose
 * default export is `defineWorker({ agents, tools?, deps? })`. TypeScript runs directly through
 * tsx (a dependency of the package), with no build step of the developer's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerDefinition } from '../../activities/agents/agent-definition';

/** The entry cannot be used: missing, failing to load, or not exporting a worker definition. */
export class WorkerEntryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerEntryError';
  }
}

let tsxRegistered = false;

async function registerTsx(): Promise<void> {
  if (tsxRegistered) return;
  tsxRegistered = true;
  // Both loaders: an entry in a CommonJS project is required, one in an ESM project imported. The ESM
  // one through import(): tsx's CommonJS build of esm/api looks for a file it does not ship.
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  (await import('tsx/esm/api')).register();
}

function isWorkerDefinition(value: unknown): value is WorkerDefinition {
  return typeof value === 'object' && value !== null && Array.isArray((value as { agents?: unknown }).agents);
}

export async function loadWorkerEntry(entry: string): Promise<WorkerDefinition> {
  const file = path.resolve(entry);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new WorkerEntryError(`worker entry ${entry} is not a file`);
  await registerTsx();
  let loaded: { default?: unknown };
  try {
    // tsc (module node16) keeps import() as it is in CommonJS output: ESM entries load too.
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new WorkerEntryError(`worker entry ${entry} failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // A CommonJS entry compiled from `export default` arrives as { default: { default: … } }.
  const candidates = [loaded.default, (loaded.default as { default?: unknown } | undefined)?.default];
  const definition = candidates.find(isWorkerDefinition);
  if (!definition) throw new WorkerEntryError(`worker entry ${entry} must export a worker definition by default: export default defineWorker({ agents: [...] })`);
  return definition;
}
