/** Paths, not hashes: the server answers every UI path with index.html. */
import { useEffect, useState } from 'react';

export type Route = { name: 'list' } | { name: 'new' } | { name: 'schedules' } | { name: 'run'; id: string } | { name: 'missing' };

export function parse(pathname: string): Route {
  if (pathname === '/' || pathname === '/runs') return { name: 'list' };
  if (pathname === '/runs/new') return { name: 'new' };
  if (pathname === '/schedules') return { name: 'schedules' };
  const m = /^\/runs\/([A-Za-z0-9_-]+)$/.exec(pathname);
  return m ? { name: 'run', id: m[1]! } : { name: 'missing' };
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
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
