/** /api/runs: create, list, read, events, cancel, upgrade. Contract: docs/api.md. */
import { Router, type Request } from 'express';
import { principalOf } from '../auth';
import { ApiError } from '../errors';
import type { HumanService } from '../human-service';
import type { RunService } from '../run-service';
import { createRunBody, decisionBody, eventsQuery, followUpBody, inputBody, listRunsQuery } from '../../contract/api';
import type { FollowUpService } from '../follow-up-service';
import { parseOr400 } from '../schemas';
import { runLinks } from '../../contract/paths';
import type { Store } from '../../shared/store';
import type { RunRecord } from '../../shared/store/runs';
import { redactText, redactUrl, redactUrlPath } from '../../shared/redact';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function runsRouter(deps: { runs: RunService; humans: HumanService; followUps: FollowUpService; store: Store; maxTextChars: number }): Router {
  const router = Router();
  const { runs, humans, followUps, store } = deps;

  router.post('/', async (req, res) => {
    const body = parseOr400(createRunBody, req.body, 'invalid_request');
    const { run, replayed } = await runs.create(principalOf(req), body, idempotencyKeyOf(req));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(runLinks(run.id).self).json(createdBody(run));
  });

  router.get('/', async (req, res) => {
    const q = parseOr400(listRunsQuery, req.query, 'invalid_query');
    res.json(await runs.list(principalOf(req), { statuses: q.status, scheduleId: q.scheduleId, goalContains: q.q, limit: q.limit, cursor: q.cursor, includeChildren: q.children === 'include', team: q.team }));
  });

  router.get('/:id', async (req, res) => {
    res.json(await runs.view(principalOf(req), req.params.id));
  });

  router.get('/:id/children', async (req, res) => {
    res.json({ children: await runs.children(principalOf(req), req.params.id) });
  });

  router.get('/:id/events', async (req, res) => {
    const q = parseOr400(eventsQuery, req.query, 'invalid_query');
    await runs.getVisible(principalOf(req), req.params.id);
    const events = await store.events.list(req.params.id, { after: q.after, limit: q.limit });
    res.json({ events, nextAfter: events.length ? events[events.length - 1]!.seq : q.after });
  });

  router.post('/:id/cancel', async (req, res) => {
    const run = await runs.cancel(principalOf(req), req.params.id);
    res.status(202).json({ id: run.id, status: 'cancelling', links: runLinks(run.id) });
  });

  router.post('/:id/upgrade', async (req, res) => {
    res.status(202).json(await runs.upgrade(principalOf(req), req.params.id));
  });

  for (const action of ['pause', 'resume'] as const) {
    router.post(`/:id/${action}`, async (req, res) => {
      const run = await runs.control(principalOf(req), req.params.id, action);
      res.status(202).json({ id: run.id, status: action === 'pause' ? 'pausing' : 'resuming', links: runLinks(run.id) });
    });
  }

  router.post('/:id/approvals/:approvalId', async (req, res) => {
    const body = parseOr400(decisionBody, req.body, 'invalid_request');
    const { approval } = await humans.decide({
      runId: req.params.id,
      approvalId: req.params.approvalId,
      caller: principalOf(req),
      decision: body.decision,
      comment: body.comment,
      channel: req.header('x-longhaul-client') === 'web' ? 'web' : 'api',
    });
    res.json(await humans.viewOf(approval));
  });

  router.get('/:id/deliveries', async (req, res) => {
    await runs.getVisible(principalOf(req), req.params.id);
    // Only the run's own destinations (its owner gave them) are shown as given, without credentials; any other — the
    // deployment's WEBHOOK_URLS, now or as they were when the run was made — is the operator's, often with a token in
    // the path: scheme and host only.
    const own = new Set(((await store.runs.webhooksOf(req.params.id))?.to ?? []).filter((hook) => hook.own).map((hook) => hook.url));
    const deliveries = await store.webhooks.listForRun(req.params.id);
    res.json({ deliveries: deliveries.map((d) => ({ ...d, url: own.has(d.url) ? redactUrl(d.url) : redactUrlPath(d.url), attempts: d.attempts.map((a) => ({ ...a, error: a.error === null ? null : redactText(a.error) })) })) });
  });

  router.post('/:id/messages', async (req, res) => {
    const body = parseOr400(followUpBody, req.body, 'invalid_request');
    const { accepted, replayed } = await followUps.send(principalOf(req), req.params.id, body, idempotencyKeyOf(req));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).json(accepted);
  });

  router.post('/:id/input', async (req, res) => {
    const body = parseOr400(inputBody, req.body, 'invalid_request');
    if (body.text.length > deps.maxTextChars) {
      throw new ApiError(413, 'input_too_large', `the answer is ${body.text.length} characters; the limit is ${deps.maxTextChars}`);
    }
    res.json(await humans.answer({ runId: req.params.id, caller: principalOf(req), text: body.text, requestId: body.requestId }));
  });

  return router;
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.header('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  return key;
}

function createdBody(run: RunRecord) {
  return { id: run.id, status: run.status, links: runLinks(run.id) };
}
