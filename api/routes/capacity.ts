/** GET /api/capacity (the model capacity books) and GET /api/usage (spend by day). Contract: contract/routes.ts. */
import { Router } from 'express';
import { usageQuery } from '../../contract/api';
import { principalOf } from '../auth';
import type { CapacityService } from '../capacity-service';
import { parseOr400 } from '../schemas';

export function capacityRouter(deps: { capacity: CapacityService }): Router {
  const router = Router();
  router.get('/capacity', async (_req, res) => {
    res.json(await deps.capacity.capacity());
  });
  router.get('/usage', async (req, res) => {
    res.json(await deps.capacity.usage(principalOf(req), parseOr400(usageQuery, req.query, 'invalid_query')));
  });
  return router;
}
