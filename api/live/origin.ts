/**
 * Browser origins allowed to open live connections: ALLOWED_ORIGINS, or by default the server's own
 * origin (as the browser addressed it) and PUBLIC_URL's. Requests without an Origin header come
 * from programs, not pages, and are judged by their credentials alone.
 */
import type http from 'node:http';

export function originAllowed(req: http.IncomingMessage, allowed: string[], publicUrl?: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const normalized = origin.toLowerCase();
  if (allowed.length) return allowed.some((o) => o.toLowerCase().replace(/\/$/, '') === normalized);
  const own = new Set<string>();
  if (req.headers.host) own.add(`http://${req.headers.host}`.toLowerCase()).add(`https://${req.headers.host}`.toLowerCase());
  if (publicUrl) own.add(new URL(publicUrl).origin.toLowerCase());
  return own.has(normalized);
}
