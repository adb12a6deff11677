/**
 * A stand-in worker for the test that a sandbox process dies with its worker (test/integration/tool-sandbox.test.ts):
 * forks the sandbox entry (sandbox-worker.ts) as a worker would, hands it `blocks_saying_pid` with the workspace
 * folder given as its argument, and waits, to be SIGKILLed by the test while the child's event loop is blocked.
 */
import path from 'node:path';
import { DEFAULT_AGENT } from '../../contract/agents';
import { createLogger } from '../../shared/logger';
import { forkedToolSandbox } from '../../worker/forked-tool-sandbox';

const dir = process.argv[2]!;
const sandbox = forkedToolSandbox({ file: path.join(__dirname, 'sandbox-worker.ts'), args: [], execArgv: ['--import', 'tsx'] }, createLogger({ level: 'silent' }));
const run = { runId: 'run-1', owner: 'ann', agent: DEFAULT_AGENT, input: null, goal: 'g', metadata: null };
// No unresponsiveAfterMs: this parent never kills the child itself.
void sandbox.run(
  { agent: DEFAULT_AGENT, tool: 'blocks_saying_pid', input: {}, runId: 'run-1', run, idempotencyKey: 'run-1:turn:1:tool:t1', workspaceDir: dir, workspaceLimits: { maxFileBytes: 1024, maxTotalBytes: 1024 }, toolUseId: 't1', attempt: 2 },
  { signal: new AbortController().signal, heartbeat: () => undefined },
);
