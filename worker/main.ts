/** `npm run worker`: a worker process for deployments (see run-worker-process.ts). */
import { runWorkerProcess } from './run-worker-process';

runWorkerProcess().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
