/** /api/inbox: what waits for the caller, across runs, a page at a time — what the UI's inbox and its count show. */
import { Router } from 'express';
import { inboxQuery } from '../../contract/api';
import { principalOf } from '../auth';
import type { HumanService } from '../human-service';
import { parseOr400 } from '../schemas';

export function inboxRouter(deps: { humans: HumanService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseOr400(inboxQuery, req.query, 'invalid_query');
    res.json(await deps.humans.inbox(principalOf(req), { limit: q.limit, cursor: q.cursor }));
  });
  return router;
}
