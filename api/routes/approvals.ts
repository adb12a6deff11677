/** /api/approvals: what is waiting for the caller's decision, across runs, each approval in full, and a decision by approval id. */
import { Router } from 'express';
import { principalOf } from '../auth';
import { approvalView, type HumanService } from '../human-service';
import { approvalsQuery, decisionBody } from '../../contract/api';
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
    res.json(approvalView(approval));
  });
  return router;
}
