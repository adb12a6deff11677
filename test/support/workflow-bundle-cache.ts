/**
 * The workflow bundle for tests that run without global setup (test/workflows, test/replay): built as the worker
 * builds it (worker/workflow-bundle.ts) and kept on disk under a hash of everything it can contain, so the first
 * file of a run pays the ~2 s of bundling and the rest, and later runs with the same code, read it back.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../../worker/workflow-bundle';
import { ARTIFACTS_DIR } from './test-env';

const ROOT = path.join(__dirname, '..', '..');
/** What a bundle is made of: the workflow code and its pure imports (lint keeps them to these), and the SDK's version. */
const SOURCES = ['workflows', 'contract', 'worker'];

function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  const files = SOURCES.flatMap((dir) =>
    fs
      .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f)),
  ).sort();
  for (const file of [...files, 'package-lock.json']) {
    hash.update(file).update('\0').update(fs.readFileSync(path.join(ROOT, file))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => process.stderr.write(`${m}\n`) };

/** The path of a bundle of today's workflow code. */
export async function workflowBundlePath(): Promise<string> {
  const file = path.join(ARTIFACTS_DIR, `workflow-bundle-${sourceHash()}.js`);
  if (fs.existsSync(file)) return file;
  const code = await bundleWorkflows(quiet);
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // Written aside and renamed: a reader never sees half a bundle.
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, code);
  fs.renameSync(partial, file);
  // Bundles of older code are never read again.
  for (const old of fs.readdirSync(ARTIFACTS_DIR)) {
    if (/^workflow-bundle-[0-9a-f]{16}\.js$/.test(old) && path.join(ARTIFACTS_DIR, old) !== file) fs.rmSync(path.join(ARTIFACTS_DIR, old), { force: true });
  }
  return file;
}
