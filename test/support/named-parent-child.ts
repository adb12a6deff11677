/**
 * A process that dies with the parent named in its argument (worker/die-with-parent.ts), then blocks its event loop
 * for good: for the test that the pid a worker writes down, not the parent found at the start, decides.
 */
import { dieWithParent } from '../../worker/die-with-parent';

dieWithParent(Number(process.argv[2]));
process.send!('blocking', () => {
  for (;;);
});
