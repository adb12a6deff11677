/**
 * /healthz: the process is up. /readyz: Temporal and the database both answer. Both are open to anyone (a load
 * balancer asks them), so a failing check says only `unavailable`: its reason (a host, an address, a database user)
 * goes to the log.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Readiness } from '../../contract/api';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';

export function healthRouter(deps: { client: Client; store: Store; namespace: string; logger: Logger }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const check = async (name: 'temporal' | 'database', fn: () => Promise<unknown>): Promise<Readiness['checks']['temporal']> => {
      try {
        await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2000).unref())]);
        return 'ok';
      } catch (err) {
        deps.logger.warn({ check: name, reason: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
        return 'unavailable';
      }
    };
    const [temporal, database] = await Promise.all([
      check('temporal', () => deps.client.withDeadline(Date.now() + 2000, () => deps.client.workflowService.getSystemInfo({}))),
      check('database', () => deps.store.ping()),
    ]);
    const ready = temporal === 'ok' && database === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, database } });
  });
  return router;
}
