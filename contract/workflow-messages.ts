/**
 * Every workflow name, signal, query and update, defined once. The workflow, the API, the worker
 * and the tests import these objects; nobody spells a handler or workflow name as a string.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ApprovalDecision, ControlRequest, FollowUpNotice, Progress, UserInput } from './run';

/** Workflow type names, as the worker registers them (workflows/index.ts exports these functions). */
export const RUN_WORKFLOW = 'agentRunWorkflow';
export const SWEEPER_WORKFLOW = 'sweeperWorkflow';
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';
export const SCHEDULED_RUN_WORKFLOW = 'scheduledRunWorkflow';

/** The run's live state: status, turn, usage, limits, what it waits for. */
export const progressQuery = defineQuery<Progress>('progress');

/** A human's decision on a pending approval. The first decision for an approval wins. */
export const approvalDecisionSignal = defineSignal<[ApprovalDecision]>('approvalDecision');

/** An answer to an `ask_user` question. */
export const userInputSignal = defineSignal<[UserInput]>('userInput');

/** A person sent a follow-up message: take it in at the next turn boundary. */
export const followUpSignal = defineSignal<[FollowUpNotice]>('followUp');

/** Stop at the next step boundary; nothing runs until resumed. */
export const pauseSignal = defineSignal<[ControlRequest]>('pause');
export const resumeSignal = defineSignal<[ControlRequest]>('resume');

/** The owner's concurrency slot freed up: a queued run may try to start. */
export const admissionSignal = defineSignal('admissionAvailable');
