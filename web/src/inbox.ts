/**
 * What waits for the signed-in user (approvals and questions across runs), kept current by the
 * runs feed on the page's one socket: the navigation's count (`total`) and the inbox page share it.
 * The server answers a page at a time (issue 26: thousands may wait); the page shows the first and
 * reads more as the user asks, and a refresh reads again as many as are shown.
 */
import { useEffect, useState } from 'react';
import { ApiError, client } from './api';
import { live } from './live';
import type { InboxItem } from '../../contract/api';
import { WAITING_PAGE } from '../../contract/run';

export type { InboxItem };

/** The items read so far (oldest first), how many wait in all, and where the next page starts (null: no more). */
export interface InboxState {
  items: InboxItem[];
  total: number;
  nextCursor: string | null;
}

type Listener = (state: InboxState | null) => void;
const listeners = new Set<Listener>();
let state: InboxState | null = null;
let stopWatching: (() => void) | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
/** How many items the page wants shown: a page, and another each time the user asks for more. */
let wanted = WAITING_PAGE.default;
/** Bumped by each read: only the latest one's answer is shown. */
let generation = 0;

function publish(next: InboxState): void {
  state = next;
  for (const l of listeners) l(state);
}

const same = (a: Pick<InboxItem, 'kind' | 'id'>, b: Pick<InboxItem, 'kind' | 'id'>) => a.kind === b.kind && a.id === b.id;

/**
 * Reads from the first item as many as are wanted, so a refresh (the runs feed's) keeps what "more" added, and a
 * "more" overtaken by a refresh is not lost: whichever read is latest reads them all.
 */
async function load(): Promise<void> {
  const mine = ++generation;
  const target = wanted;
  try {
    let page = await client.approvals.inbox({ limit: Math.min(target, WAITING_PAGE.max) });
    const items = [...page.items];
    while (items.length < target && page.nextCursor) {
      page = await client.approvals.inbox({ limit: Math.min(target - items.length, WAITING_PAGE.max), cursor: page.nextCursor });
      items.push(...page.items.filter((i) => !items.some((s) => same(s, i))));
    }
    if (mine === generation) publish({ items, total: page.total, nextCursor: page.nextCursor });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn('inbox', err);
    throw err;
  }
}

/** Another page after the items shown. Rejects if the read fails. */
export async function loadMoreOfInbox(): Promise<void> {
  wanted = (state?.items.length ?? 0) + WAITING_PAGE.default;
  await load();
}

/** Read again soon: several changes in a burst make one request. */
export function refreshInbox(): void {
  clearTimeout(timer);
  timer = setTimeout(() => void load().catch(() => undefined), 100);
}

/**
 * Takes a request off the list at once, before the server has answered: the count drops as the
 * user acts. The next read (the runs feed's, or `refreshInbox` after a failed request) reconciles.
 */
export function dropFromInbox(item: Pick<InboxItem, 'kind' | 'id'>): void {
  if (!state || !state.items.some((i) => same(i, item))) return;
  publish({ ...state, items: state.items.filter((i) => !same(i, item)), total: Math.max(0, state.total - 1) });
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    stopWatching = live.watchRuns(() => refreshInbox());
    void load().catch(() => undefined);
  } else listener(state);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) stopWatching?.();
  };
}

export function useInbox(): InboxState | null {
  const [current, setCurrent] = useState<InboxState | null>(state);
  useEffect(() => subscribe(setCurrent), []);
  return current;
}
