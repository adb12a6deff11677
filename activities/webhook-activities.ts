/**
 * Webhook delivery, one attempt per activity attempt: sign the delivery's fixed body the Standard
 * Webhooks way (`webhook-id` the same every attempt, `webhook-timestamp` now, `webhook-signature`
 * `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes), POST it without
 * following redirects, record the attempt, and throw on anything but a 2xx so Temporal retries with
 * backoff. A host no longer allowed is a failure no retry can fix.
 */
import crypto from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract/failures';
import { AllowedHosts } from '../shared/net/allowed-hosts';
import { redactText } from '../shared/redact';
import type { ActivityDeps } from './deps';

/** How long one attempt may take to be answered. */
const ATTEMPT_TIMEOUT_MS = 10_000;

export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function createWebhookActivities(deps: ActivityDeps) {
  const { store } = deps;
  const { secret, allowedHosts } = deps.settings.webhooks;
  const allowed = new AllowedHosts(allowedHosts);

  async function deliverWebhook({ deliveryId }: { deliveryId: string }): Promise<{ attempt: number; status: number }> {
    const delivery = await store.webhooks.get(deliveryId);
    if (!delivery) throw ApplicationFailure.nonRetryable(`no delivery ${deliveryId}`, FailureType.WebhookRefused);
    if (delivery.status !== 'pending') return { attempt: 0, status: 0 };
    const refusal = allowed.refusal(new URL(delivery.url), 'WEBHOOK_ALLOWED_HOSTS');
    if (refusal || !secret) {
      await store.webhooks.recordAttempt(deliveryId, { status: null, error: refusal ?? 'no WEBHOOK_SECRET', ms: 0 });
      throw ApplicationFailure.nonRetryable(refusal ?? 'no WEBHOOK_SECRET to sign with', FailureType.WebhookRefused);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Longhaul-Webhooks',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(secret, delivery.id, timestamp, delivery.body),
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (status < 200 || status >= 300) error = `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
    } catch (err) {
      // Stored and shown in GET …/deliveries: never a URL's credentials.
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      error = redactText(`${err instanceof Error ? err.message : String(err)}${cause}`);
    }
    const attempt = await store.webhooks.recordAttempt(deliveryId, { status, error, ms: performance.now() - started });
    if (error) throw ApplicationFailure.retryable(`webhook to ${new URL(delivery.url).host}: ${error}`, FailureType.WebhookNotAccepted);
    await store.webhooks.settle(deliveryId, 'delivered');
    return { attempt, status: status! };
  }

  /** Out of attempts or time: the delivery is given up (and says so in GET …/deliveries). */
  async function giveUpWebhook({ deliveryId }: { deliveryId: string }): Promise<void> {
    await store.webhooks.settle(deliveryId, 'failed');
  }

  return { deliverWebhook, giveUpWebhook };
}
