/**
 * A worker entry with the sandbox test tools (sandbox-tools.ts). The test forks it as a worker would fork its own
 * entry for a suspect call (LONGHAUL_TOOL_SANDBOX set): it serves one call over IPC and exits.
 */
import { runWorkerProcess } from '../../worker/run-worker-process';
import { SANDBOX_DEPS, sandboxTools } from './sandbox-tools';

runWorkerProcess({ definition: { agents: [], deps: SANDBOX_DEPS }, extraTools: sandboxTools() }).then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
