/** /api/inbox: everything waiting for the caller, across runs — what the UI's inbox and its count show. */
import { Router } from 'express';
import { principalOf } from '../auth';
import type { HumanService } from '../human-service';

export function inboxRouter(deps: { humans: HumanService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json({ items: await deps.humans.inbox(principalOf(req)) });
  });
  return router;
}
