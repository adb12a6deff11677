/**
 * What waits for the signed-in user (approvals and questions across runs), kept current by the
 * runs feed on the page's one socket: the navigation's count and the inbox page share it.
 */
import { useEffect, useState } from 'react';
import { ApiError, client } from './api';
import { live } from './live';
import type { InboxItem } from '../../contract/api';

export type { InboxItem };

type Listener = (items: InboxItem[] | null) => void;
const listeners = new Set<Listener>();
let items: InboxItem[] | null = null;
let stopWatching: (() => void) | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

async function load(): Promise<void> {
  try {
    items = (await client.approvals.inbox()).items;
    for (const l of listeners) l(items);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn('inbox', err);
  }
}

/** Read again soon: several changes in a burst make one request. */
export function refreshInbox(): void {
  clearTimeout(timer);
  timer = setTimeout(() => void load(), 100);
}

/**
 * Takes a request off the list at once, before the server has answered: the count drops as the
 * user acts. The next read (the runs feed's, or `refreshInbox` after a failed request) reconciles.
 */
export function dropFromInbox(item: Pick<InboxItem, 'kind' | 'id'>): void {
  if (!items) return;
  items = items.filter((i) => !(i.kind === item.kind && i.id === item.id));
  for (const l of listeners) l(items);
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    stopWatching = live.watchRuns(() => refreshInbox());
    void load();
  } else listener(items);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) stopWatching?.();
  };
}

export function useInbox(): InboxItem[] | null {
  const [state, setState] = useState<InboxItem[] | null>(items);
  useEffect(() => subscribe(setState), []);
  return state;
}
