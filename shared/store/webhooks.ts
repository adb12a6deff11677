/**
 * Webhook deliveries (migration 006), an outbox: `events.append` writes a delivery for each
 * subscriber of each webhook-worthy event in the same transaction as the event, so an event that
 * happened is always delivered, whatever crashes after. Workers' dispatchers start a delivery
 * workflow for each one not yet started; every attempt is recorded.
 */
import crypto from 'node:crypto';
import type { DeliveryView, SubagentOrigin, WebhookSubscription } from '../../contract/api';
import { isWebhookEventType, SUBAGENT_ROLLUP_EVENTS, type DeliveryStatus, type RunEvent, type WebhookEventType } from '../../contract/events';
import { routePath } from '../../contract/paths';
import { nowIso, parseJson, type Executor } from './executor';
import { RunTreeRepo } from './run-tree';
import type { WebhookDeliveriesTable } from './schema';
import type { Insertable } from 'kysely';

/** What a run keeps of its webhooks: who is told, and where its page is (for the `link` in each body). */
/**
 * A destination as stored with a run or schedule. `own`: given by its owner; absent: the deployment's `WEBHOOK_URLS`
 * as they were when it was made (and every destination of one made before the mark existed) — the operator's, often
 * with a token in the path, so shown to owners as scheme and host only and, for schedules, replaced at each firing by
 * the deployment's current ones.
 */
export type StoredWebhook = WebhookSubscription & { own?: true };

export interface RunWebhooks {
  to: StoredWebhook[];
  /** `PUBLIC_URL` when the run was created; without one, links are the API path. */
  publicUrl: string | null;
}

/**
 * A child run's event of this type goes to its root's subscribers too (`enqueue`). Asked also where an event is
 * appended without the outbox (shared/store/events.ts), so both read the one rule.
 */
export const rollsUpToRoot = (type: string): boolean => (SUBAGENT_ROLLUP_EVENTS as readonly string[]).includes(type);

export const runLink = (hooks: RunWebhooks, runId: string): string =>
  hooks.publicUrl ? `${hooks.publicUrl.replace(/\/$/, '')}/runs/${runId}` : routePath('getRun', { id: runId });

export interface DeliveryRecord {
  id: string;
  runId: string;
  url: string;
  event: WebhookEventType;
  seq: number;
  body: string;
  status: DeliveryStatus;
  createdAt: string;
}

/** The delivery of one event to one URL: the same id on every attempt (`webhook-id`). */
const deliveryId = (runId: string, seq: number, url: string): string =>
  `whd_${crypto.createHash('sha256').update(`${runId}\n${seq}\n${url}`).digest('hex').slice(0, 24)}`;

export class WebhooksRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Writes the deliveries these newly appended events call for (call inside their transaction): to the run's own
   * subscribers (`hooks`), and, for a child run's requests for a human (`SUBAGENT_ROLLUP_EVENTS`), to its root's,
   * labelled with the sub-agent that asks (`data.subagent`) and linking to the root's page, where they can be decided.
   */
  async enqueue(runId: string, hooks: RunWebhooks | null, events: RunEvent[]): Promise<void> {
    const rows: Insertable<WebhookDeliveriesTable>[] = [];
    const now = nowIso();
    const deliver = (event: RunEvent & { type: WebhookEventType }, to: RunWebhooks, linkTo: string, label: { subagent?: SubagentOrigin }) => {
      for (const sub of to.to) {
        if (sub.events && !sub.events.includes(event.type)) continue;
        const body = JSON.stringify({ type: event.type, timestamp: event.at, data: { runId, seq: event.seq, link: runLink(to, linkTo), ...event.data, ...label } });
        rows.push({ id: deliveryId(runId, event.seq, sub.url), run_id: runId, url: sub.url, event_type: event.type, seq: event.seq, body, status: 'pending', dispatched_at: null, created_at: now, delivered_at: null });
      }
    };
    for (const event of events) if (hooks?.to.length && isWebhookEventType(event.type)) deliver(event as RunEvent & { type: WebhookEventType }, hooks, runId, {});
    const rolling = events.filter((e): e is RunEvent & { type: WebhookEventType } => rollsUpToRoot(e.type));
    const origin = rolling.length ? await new RunTreeRepo(this.db).originOf(runId) : null;
    const root = origin ? await this.db.selectFrom('runs').select('webhooks_json').where('id', '=', origin.rootRunId).executeTakeFirst() : undefined;
    const rootHooks = parseJson<RunWebhooks | null>(root?.webhooks_json ?? null, null);
    if (origin && rootHooks?.to.length) for (const event of rolling) deliver(event, rootHooks, origin.rootRunId, { subagent: origin });
    if (rows.length) await this.db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
  }

  /** Deliveries no worker has started yet, oldest first, with what they deliver (for the workflow's summary). */
  async undispatched(limit = 100): Promise<{ id: string; runId: string; eventType: string; seq: number; url: string }[]> {
    return this.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'run_id as runId', 'event_type as eventType', 'seq', 'url'])
      .where('dispatched_at', 'is', null).orderBy('created_at', 'asc').limit(limit).execute();
  }

  async markDispatched(id: string): Promise<void> {
    await this.db.updateTable('webhook_deliveries').set({ dispatched_at: nowIso() }).where('id', '=', id).where('dispatched_at', 'is', null).execute();
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return { id: row.id, runId: row.run_id, url: row.url, event: row.event_type as WebhookEventType, seq: Number(row.seq), body: row.body, status: row.status as DeliveryRecord['status'], createdAt: row.created_at };
  }

  /** Records one attempt; returns its number (1, 2, …). */
  async recordAttempt(id: string, a: { status: number | null; error: string | null; ms: number }): Promise<number> {
    const last = await this.db.selectFrom('webhook_attempts').select((eb) => eb.fn.max('n').as('n')).where('delivery_id', '=', id).executeTakeFirst();
    const n = Number(last?.n ?? 0) + 1;
    await this.db.insertInto('webhook_attempts').values({ delivery_id: id, n, at: nowIso(), status: a.status, error: a.error, ms: Math.round(a.ms) }).execute();
    return n;
  }

  async settle(id: string, status: 'delivered' | 'failed'): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status, ...(status === 'delivered' && { delivered_at: nowIso() }) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async listForRun(runId: string): Promise<DeliveryView[]> {
    const deliveries = await this.db.selectFrom('webhook_deliveries').selectAll().where('run_id', '=', runId).orderBy('seq', 'asc').orderBy('url', 'asc').execute();
    if (deliveries.length === 0) return [];
    const attempts = await this.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('n', 'asc').execute();
    return deliveries.map((d) => ({
      id: d.id,
      url: d.url,
      event: d.event_type as WebhookEventType,
      seq: Number(d.seq),
      status: d.status as DeliveryView['status'],
      attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({ n: Number(a.n), at: a.at, status: a.status === null ? null : Number(a.status), error: a.error, ms: Number(a.ms) })),
      createdAt: d.created_at,
      deliveredAt: d.delivered_at,
    }));
  }
}
