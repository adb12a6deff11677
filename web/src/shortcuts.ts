/**
 * Keyboard shortcuts for the whole page: `/` search, `?` the list of shortcuts, `a` / `r` approve
 * or reject the request in focus (each asks for confirmation). Keys typed into a field are the
 * field's; modifiers are left to the browser.
 */
import { useEffect } from 'react';
import type { Decision } from '../../contract/run';
import { navigate } from './router';

export const SHORTCUTS: { key: string; does: string }[] = [
  { key: '/', does: 'Search runs' },
  { key: 'a', does: 'Approve the request in focus (asks first)' },
  { key: 'r', does: 'Reject the request in focus (asks first)' },
  { key: '?', does: 'Show these shortcuts' },
];

/** Fired on `window` for `a` / `r`; the run page decides which request is meant. */
export const DECIDE_EVENT = 'longhaul:decide';
export type DecideDetail = { decision: Decision };

function typingIn(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

function focusSearch(): boolean {
  const search = document.querySelector<HTMLInputElement>('[data-shortcut="search"]');
  search?.focus();
  return !!search;
}

export function useShortcuts(showHelp: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey || typingIn(e.target)) return;
      if (document.querySelector('dialog[open]')) return; // a dialog has the keyboard
      if (e.key === '/') {
        e.preventDefault();
        if (!focusSearch()) {
          navigate('/');
          requestAnimationFrame(() => requestAnimationFrame(() => focusSearch()));
        }
      } else if (e.key === '?') {
        e.preventDefault();
        showHelp();
      } else if (e.key === 'a' || e.key === 'r') {
        dispatchEvent(new CustomEvent<DecideDetail>(DECIDE_EVENT, { detail: { decision: e.key === 'a' ? 'approve' : 'reject' } }));
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [showHelp]);
}
