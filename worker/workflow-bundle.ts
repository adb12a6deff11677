/**
 * How the workflow code is bundled, in one place for every bundler (a worker that bundles at start,
 * `scripts/bundle-workflows.ts`, the tests and the benches): the workflows and the workflow
 * interceptors that carry OpenTelemetry's trace context through them (tracing-workflow-interceptors.ts).
 * They are always in the bundle (a prebuilt bundle must not depend on config); with tracing off
 * they only make spans nobody exports.
 */
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('./tracing-workflow-interceptors')];

export async function bundleWorkflows(logger?: BundleOptions['logger']): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger });
  return code;
}
