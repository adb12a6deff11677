/** A worker process with the test tools, for tests that kill, drain or restart workers. */
import { runWorkerProcess } from '../../worker/run-worker-process';
import { testTools } from './test-tools';

runWorkerProcess({ extraTools: testTools() }).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
