/** /api/agents: the agents workers published, their versions and the live workers serving each. */
import { Router } from 'express';
import type { AgentService } from '../agent-service';

export function agentsRouter(deps: { agents: AgentService }): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.json(await deps.agents.list());
  });
  return router;
}
