/**
 * The web UI: the static files `npm run build` puts in web/dist, with every other non-API path
 * answered by index.html (the UI routes in the browser). No CDN, no external fetches.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { projectRoot } from '../../shared/package-info';

export function webRouter(): Router {
  const router = Router();
  const dist = path.join(projectRoot(), 'web', 'dist');
  const index = path.join(dist, 'index.html');
  router.use((_req, res, next) => {
    // The UI renders agent output as text only; this policy backs that up in the browser.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    next();
  });
  router.use(express.static(dist, { index: false, maxAge: '1h', fallthrough: true }));
  router.get(/^\/(?!api\/|api$|ws$|slack\/|metrics$|healthz$|readyz$).*/, (_req, res) => {
    if (!fs.existsSync(index)) {
      res.status(404).type('text/plain').send('The web UI is not built. Run `npm run build` (npm start does it for you).');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
