/** The route pattern a request matched (`/api/runs/:id`), never the raw path: for metrics labels and span names. */
import type { Request } from 'express';

export function routePattern(req: Request): string | undefined {
  return req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
}
