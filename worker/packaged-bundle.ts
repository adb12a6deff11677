/**
 * The workflow bundle the package ships (dist/workflow-bundle.js, made by `npm pack`'s prepack): a
 * developer's worker (`longhaul worker`, `longhaul dev`, `startWorker`) uses it instead of bundling
 * the workflow sources with webpack at every start. Only when it is at least as new as the compiled
 * workflows beside it: in a checkout where `tsc` ran after the last bundle, the worker bundles itself.
 * WORKFLOW_BUNDLE_PATH, when set, wins.
 */
import fs from 'node:fs';
import path from 'node:path';

export function packagedWorkflowBundle(): string | undefined {
  const bundle = path.join(__dirname, '..', 'workflow-bundle.js');
  const workflows = path.join(__dirname, '..', 'workflows', 'index.js');
  try {
    return fs.statSync(bundle).mtimeMs >= fs.statSync(workflows).mtimeMs ? bundle : undefined;
  } catch {
    return undefined; // not built: running from the sources, or an unpacked checkout
  }
}

/** Points WORKFLOW_BUNDLE_PATH at the shipped bundle unless one is configured (before the config is read). */
export function usePackagedWorkflowBundle(env: NodeJS.ProcessEnv = process.env): void {
  if (env.WORKFLOW_BUNDLE_PATH) return;
  const bundle = packagedWorkflowBundle();
  if (bundle) env.WORKFLOW_BUNDLE_PATH = bundle;
}
