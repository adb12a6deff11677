/** /healthz: the process is up. /readyz: Temporal and the database both answer. */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Store } from '../../shared/store';

export function healthRouter(deps: { client: Client; store: Store; namespace: string }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const check = async (fn: () => Promise<unknown>): Promise<'ok' | string> => {
      try {
        await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2000).unref())]);
        return 'ok';
      } catch (err) {
        return `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    };
    const [temporal, database] = await Promise.all([
      check(() => deps.client.withDeadline(Date.now() + 2000, () => deps.client.workflowService.getSystemInfo({}))),
      check(() => deps.store.ping()),
    ]);
    const ready = temporal === 'ok' && database === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, database } });
  });
  return router;
}
