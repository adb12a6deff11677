/** /api/teams: the caller's teams, and a team's members and budget for its admins. Contract: contract/routes.ts. */
import { Router } from 'express';
import { teamBudgetBody } from '../../contract/api';
import { principalOf } from '../auth';
import { parseOr400 } from '../schemas';
import type { TeamService } from '../team-service';

export function teamsRouter(deps: { teams: TeamService }): Router {
  const router = Router();
  const { teams } = deps;
  router.get('/', (req, res) => {
    res.json(teams.list(principalOf(req)));
  });
  router.get('/:team/members', async (req, res) => {
    res.json(await teams.members(principalOf(req), req.params.team));
  });
  router.put('/:team/members/:user/:role', async (req, res) => {
    res.json(await teams.grant(principalOf(req), req.params.team, req.params.user, req.params.role));
  });
  router.delete('/:team/members/:user/:role', async (req, res) => {
    await teams.revoke(principalOf(req), req.params.team, req.params.user, req.params.role);
    res.status(204).end();
  });
  router.get('/:team/budget', async (req, res) => {
    res.json(await teams.budget(principalOf(req), req.params.team));
  });
  router.put('/:team/budget', async (req, res) => {
    const body = parseOr400(teamBudgetBody, req.body, 'invalid_request');
    res.json(await teams.setBudget(principalOf(req), req.params.team, body.dailyUsd));
  });
  return router;
}
