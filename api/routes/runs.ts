/** /api/runs: create, list, read, events, cancel. Contract: docs/api.md. */
import { Router } from 'express';
import { userOf } from '../auth';
import { ApiError } from '../errors';
import type { RunService } from '../run-service';
import { createRunBody, eventsQuery, listRunsQuery, parseOr400 } from '../schemas';
import type { Store } from '../../shared/store';
import type { RunRecord } from '../../shared/store/runs';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function runLinks(id: string) {
  const self = `/api/runs/${id}`;
  return { self, events: `${self}/events`, stream: `${self}/stream`, cancel: `${self}/cancel` };
}

export function runsRouter(deps: { runs: RunService; store: Store }): Router {
  const router = Router();
  const { runs, store } = deps;

  router.post('/', async (req, res) => {
    const body = parseOr400(createRunBody, req.body, 'invalid_request');
    const key = req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const { run, replayed } = await runs.create(userOf(req), body, key);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(runLinks(run.id).self).json(createdBody(run));
  });

  router.get('/', async (req, res) => {
    const q = parseOr400(listRunsQuery, req.query, 'invalid_query');
    res.json(await runs.list(userOf(req), { statuses: q.status, limit: q.limit, cursor: q.cursor }));
  });

  router.get('/:id', async (req, res) => {
    res.json(await runs.view(userOf(req), req.params.id));
  });

  router.get('/:id/events', async (req, res) => {
    const q = parseOr400(eventsQuery, req.query, 'invalid_query');
    await runs.getOwned(userOf(req), req.params.id);
    const events = await store.events.list(req.params.id, { after: q.after, limit: q.limit });
    res.json({ events, nextAfter: events.length ? events[events.length - 1]!.seq : q.after });
  });

  router.post('/:id/cancel', async (req, res) => {
    const run = await runs.cancel(userOf(req), req.params.id);
    res.status(202).json({ id: run.id, status: 'cancelling', links: runLinks(run.id) });
  });

  return router;
}

function createdBody(run: RunRecord) {
  return { id: run.id, status: run.status, links: runLinks(run.id) };
}
