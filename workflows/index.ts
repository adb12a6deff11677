/** Workflows registered by the worker. */
export { agentRunWorkflow } from './agent-run';
export { sweeperWorkflow } from './sweeper';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { scheduledRunWorkflow } from './scheduled-run';
