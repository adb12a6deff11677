/** /api/approvals: what is waiting for the caller's decision, across runs, and each approval in full. */
import { Router } from 'express';
import { principalOf } from '../auth';
import { approvalView, type HumanService } from '../human-service';
import { approvalsQuery } from '../../contract/api';
import { parseOr400 } from '../schemas';

export function approvalsRouter(deps: { humans: HumanService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    parseOr400(approvalsQuery, req.query, 'invalid_query');
    const pending = await deps.humans.pendingFor(principalOf(req));
    res.json({ approvals: pending.map(approvalView) });
  });
  router.get('/:approvalId', async (req, res) => {
    res.json(approvalView(await deps.humans.approval(principalOf(req), req.params.approvalId)));
  });
  return router;
}
