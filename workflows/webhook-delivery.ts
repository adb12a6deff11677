/**
 * webhookDeliveryWorkflow: one webhook delivery, retried by Temporal with exponential backoff until
 * the receiver accepts it, WEBHOOK_MAX_ATTEMPTS are spent, or WEBHOOK_MAX_AGE_SEC has passed. Its
 * own workflow (id = delivery id), so a run never waits for, or fails because of, its webhooks.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface WebhookDeliveryArgs {
  deliveryId: string;
  maxAttempts: number;
  maxAgeSec: number;
}

export async function webhookDeliveryWorkflow(args: WebhookDeliveryArgs): Promise<{ delivered: boolean }> {
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: `${args.maxAgeSec}s`,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: args.maxAttempts },
  });
  const { giveUpWebhook } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 10 } });
  try {
    await deliverWebhook({ deliveryId: args.deliveryId });
    return { delivered: true };
  } catch {
    await giveUpWebhook({ deliveryId: args.deliveryId });
    return { delivered: false };
  }
}
