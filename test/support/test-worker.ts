/** A worker process with the test tools, for tests that kill, drain or restart workers. */
import { redactText } from '../../shared/redact';
import { runWorkerProcess } from '../../worker/run-worker-process';
import { testTools } from './test-tools';

runWorkerProcess({ extraTools: testTools() }).then(
  () => process.exit(0),
  (err) => {
    // Not through the logger: still never a URL's credentials or a configured secret.
    console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
    process.exit(1);
  },
);
