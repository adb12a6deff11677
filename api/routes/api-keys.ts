/** /api/keys: API keys for machines (create, list, revoke). Contract: docs/api.md. */
import { Router } from 'express';
import { apiKeysQuery, createApiKeyBody } from '../../contract/api-keys';
import type { ApiKeyService } from '../api-key-service';
import { principalOf } from '../auth';
import { parseOr400 } from '../schemas';

export function apiKeysRouter(deps: { keys: ApiKeyService }): Router {
  const router = Router();
  const { keys } = deps;

  // The credential is checked before the request, so a key that may not manage keys learns nothing from a 400.
  router.post('/', async (req, res) => {
    keys.assertMayManage(principalOf(req));
    const body = parseOr400(createApiKeyBody, req.body, 'invalid_request');
    res.status(201).json(await keys.create(principalOf(req), body));
  });

  router.get('/', async (req, res) => {
    keys.assertMayManage(principalOf(req));
    const query = parseOr400(apiKeysQuery, req.query, 'invalid_query');
    res.json({ keys: await keys.list(principalOf(req), query.owner) });
  });

  router.delete('/:id', async (req, res) => {
    res.json(await keys.revoke(principalOf(req), req.params.id));
  });
  return router;
}
