/** Query and signal handlers: they only read or record into the run's state, never block. */
import { setHandler } from '@temporalio/workflow';
import {
  admissionSignal,
  approvalDecisionSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  userInputSignal,
} from './definitions';
import type { RunState } from './run-state';

export function installHandlers(run: RunState): void {
  setHandler(progressQuery, () => run.progress());
  setHandler(approvalDecisionSignal, (decision) => {
    run.recordDecision(decision);
  });
  setHandler(userInputSignal, (answer) => {
    run.recordInput(answer);
  });
  setHandler(pauseSignal, () => {
    run.paused = true;
  });
  setHandler(resumeSignal, () => {
    run.paused = false;
  });
  setHandler(admissionSignal, () => {
    run.admissionNudged = true;
  });
}
