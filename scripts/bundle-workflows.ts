/**
 * Bundles the workflow code once, ahead of time, into dist/workflow-bundle.js (or the path given):
 * workers started with WORKFLOW_BUNDLE_PATH pointing at it skip bundling (seconds at every start,
 * and webpack's report in the log). `npm start` runs it as part of its build; so does the Dockerfile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../worker/workflow-bundle';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'workflow-bundle.js'));
  const quiet = { trace() {}, debug() {}, info() {}, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log() {} };
  const code = await bundleWorkflows(quiet);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.tmp`, code);
  fs.renameSync(`${out}.tmp`, out);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
