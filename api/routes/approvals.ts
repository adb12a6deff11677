/** /api/approvals: what is waiting for the caller's decision, across runs, each approval in full, and a decision by approval id. */
import { Router } from 'express';
import { principalOf } from '../auth';
import type { HumanService } from '../human-service';
import { approvalsQuery, decisionBody } from '../../contract/api';
import { parseOr400 } from '../schemas';

export function approvalsRouter(deps: { humans: HumanService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseOr400(approvalsQuery, req.query, 'invalid_query');
    res.json(await deps.humans.pendingViewsFor(principalOf(req), { limit: q.limit, cursor: q.cursor }));
  });
  router.get('/:approvalId', async (req, res) => {
    res.json(await deps.humans.viewOf(await deps.humans.approval(principalOf(req), req.params.approvalId)));
  });
  // By the approval's id alone: decided on the run that asks (a sub-agent's child run included).
  router.post('/:approvalId', async (req, res) => {
    const body = parseOr400(decisionBody, req.body, 'invalid_request');
    const caller = principalOf(req);
    const runId = await deps.humans.runOfApproval(caller, req.params.approvalId);
    const { approval } = await deps.humans.decide({
      runId,
      approvalId: req.params.approvalId,
      caller,
      decision: body.decision,
      comment: body.comment,
      channel: req.header('x-longhaul-client') === 'web' ? 'web' : 'api',
    });
    res.json(await deps.humans.viewOf(approval));
  });
  return router;
}
