/**
 * Starts a delivery workflow for every webhook delivery in the outbox that no worker has started
 * yet. Every worker runs one; the workflow id is the delivery id, so two workers starting the same
 * delivery start it once. Polls every second, a single indexed query when there is nothing to do.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WEBHOOK_DELIVERY_WORKFLOW } from '../contract/workflow-messages';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { webhookDeliveryWorkflow } from '../workflows';

const POLL_MS = 1000;

/** The receiver's host only: a webhook URL's path or query may carry a token. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an unparsable URL';
  }
}

export function startWebhookDispatcher(deps: { store: Store; client: Client; config: Config; logger: Logger }): { stop(): Promise<void> } {
  const { store, client, config, logger } = deps;
  let running: Promise<void> | undefined;
  const dispatch = async () => {
    for (const { id, runId, eventType, seq, url } of await store.webhooks.undispatched()) {
      try {
        await client.workflow.start<typeof webhookDeliveryWorkflow>(WEBHOOK_DELIVERY_WORKFLOW, {
          workflowId: id,
          taskQueue: config.temporal.taskQueue,
          args: [{ deliveryId: id, maxAttempts: config.webhooks.maxAttempts, maxAgeSec: config.webhooks.maxAgeSec }],
          // What the delivery is for, as Temporal's UI lists it: the event and its run, and where it goes.
          staticSummary: `Webhook: ${eventType} (#${seq}) of run ${runId} to ${hostOf(url)}`,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await store.webhooks.markDispatched(id);
    }
  };
  const timer = setInterval(() => {
    if (running) return; // a slow round never piles up
    running = dispatch()
      .catch((err: unknown) => logger.warn({ err }, 'webhook dispatch failed; retrying'))
      .finally(() => (running = undefined));
  }, POLL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
