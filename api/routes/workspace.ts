/** /api/runs/:id/workspace: the run's files, one file's download, and releasing it. Contract: contract/routes.ts. */
import { Router } from 'express';
import { principalOf } from '../auth';
import type { WorkspaceService } from '../workspace-service';

export function workspaceRouter(deps: { workspaces: WorkspaceService }): Router {
  const router = Router();
  const { workspaces } = deps;

  router.get('/:id/workspace', async (req, res) => {
    res.json(await workspaces.view(principalOf(req), req.params.id));
  });

  router.get('/:id/workspace/files/*path', async (req, res) => {
    const segments = (req.params as { path: string[] }).path;
    const file = await workspaces.file(principalOf(req), req.params.id, segments.join('/'));
    // A download, never a page of this origin: whatever the agent wrote, it runs nowhere here.
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`);
    res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
    res.setHeader('Cache-Control', 'private, no-store');
    res.send(file.data);
  });

  router.post('/:id/workspace/release', async (req, res) => {
    res.json(await workspaces.release(principalOf(req), req.params.id));
  });
  return router;
}
