/** A worker process with the test tools and the poison tool (test/support/poison-tool.ts), for faults-under-load tests. */
import { redactText } from '../../shared/redact';
import { runWorkerProcess } from '../../worker/run-worker-process';
import { poisonTool } from './poison-tool';
import { testTools } from './test-tools';

runWorkerProcess({ extraTools: [...testTools(), poisonTool()] }).then(
  () => process.exit(0),
  (err) => {
    // Not through the logger: still never a URL's credentials or a configured secret.
    console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
    process.exit(1);
  },
);
