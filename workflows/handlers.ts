/** Query and signal handlers: they only read or record into the run's state, never block. */
import { setHandler } from '@temporalio/workflow';
import { admissionSignal, approvalDecisionSignal, followUpSignal, pauseSignal, progressQuery, resumeSignal, userInputSignal } from '../contract/workflow-messages';
import type { RunState } from './run-state';

export function installHandlers(run: RunState): void {
  setHandler(progressQuery, () => run.progress());
  setHandler(approvalDecisionSignal, (decision) => {
    run.recordDecision(decision);
  });
  setHandler(userInputSignal, (answer) => {
    run.recordInput(answer);
  });
  setHandler(pauseSignal, ({ by }) => run.requestPause(by));
  setHandler(resumeSignal, ({ by, pause }) => run.requestResume(by, pause));
  setHandler(admissionSignal, () => {
    run.admissionNudged = true;
  });
  setHandler(followUpSignal, () => {
    run.followUpsWaiting = true;
  });
}
