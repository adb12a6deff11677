/** GET /metrics: the API process's Prometheus metrics (api-metrics.ts), in the text format. */
import { Router } from 'express';
import type { ApiMetrics } from '../api-metrics';

export function metricsRouter(deps: { metrics: ApiMetrics }): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
