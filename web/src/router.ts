/** Paths, not hashes: the server answers every UI path with index.html. */
import { useEffect, useState } from 'react';

export type Route = { name: 'list' } | { name: 'new' } | { name: 'schedules' } | { name: 'agents' } | { name: 'inbox' } | { name: 'keys' } | { name: 'run'; id: string } | { name: 'missing' };

export function parse(pathname: string): Route {
  if (pathname === '/' || pathname === '/runs') return { name: 'list' };
  if (pathname === '/runs/new') return { name: 'new' };
  if (pathname === '/schedules') return { name: 'schedules' };
  if (pathname === '/agents') return { name: 'agents' };
  if (pathname === '/inbox') return { name: 'inbox' };
  if (pathname === '/keys') return { name: 'keys' };
  const m = /^\/runs\/([A-Za-z0-9_-]+)$/.exec(pathname);
  return m ? { name: 'run', id: m[1]! } : { name: 'missing' };
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The page's query parameters (filters, search, a run to start from). */
export function queryParam(name: string): string {
  return new URLSearchParams(location.search).get(name) ?? '';
}

/** Keeps filters in the address, so a reload or a shared link shows the same list (no new history entry). */
export function replaceQuery(params: Record<string, string>): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const search = q.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.pathname));
  useEffect(() => {
    const on = () => setRoute(parse(location.pathname));
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}
