/** `npm run worker`: a worker process for deployments (see run-worker-process.ts). */
import { redactText } from '../shared/redact';
import { runWorkerProcess } from './run-worker-process';

runWorkerProcess().then(
  () => process.exit(0),
  (err) => {
    // Not through the logger: still never a URL's credentials or a configured secret.
    console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
    process.exit(1);
  },
);
