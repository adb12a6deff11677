/** How the UI words statuses, money, tokens and times. */
import { cachedShare, type CapacityLimit, type Usage } from '../../contract/run';
import type { RunStatus } from './types';

export const STATUS_LABEL: Record<RunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting_approval: 'Waiting for you: approval',
  waiting_input: 'Waiting for you: question',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** A symbol per status, so status never rests on colour alone. */
export const STATUS_ICON: Record<RunStatus, string> = {
  queued: '…',
  running: '▶',
  waiting_approval: '!',
  waiting_input: '?',
  paused: '‖',
  completed: '✓',
  failed: '✕',
  cancelled: '■',
};

export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

/** All input, with the share the prompt cache served when it served some: `12.3k in (85% cached)`. */
export function formatInput(u: Usage): string {
  const total = u.inputTokens + (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0);
  const share = cachedShare(u);
  return `${formatTokens(total)} in${share > 0 ? ` (${Math.round(share * 100)}% cached)` : ''}`;
}

const LIMIT_WORDS: Record<CapacityLimit, string> = { rpm: 'requests per minute', input_tpm: 'input tokens per minute', output_tpm: 'output tokens per minute' };
export const capacityLimitWords = (l: CapacityLimit): string => LIMIT_WORDS[l];

export function formatAge(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** A duration as people say it: `850 ms`, `4.2 s`, `49 s`, `3 min 12 s`, `2 h 5 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function pretty(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** An agent version as people read it: its first 8 hex digits (the full hash is in the title). */
export const shortVersion = (version: string): string => version.slice(0, 8);
