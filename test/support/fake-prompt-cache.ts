/**
 * The fake Anthropic server's prompt cache and token counting. A request is read as the provider
 * reads it — tools, then system, then each message's blocks — and each part costs a token per
 * four characters of its JSON. A part marked with `cache_control` is a breakpoint: the longest
 * prefix ending at a breakpoint that an earlier request wrote is read from the cache; the prefix
 * up to the last breakpoint is written; the rest is plain input.
 */
import crypto from 'node:crypto';

export interface CountedUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

interface Part {
  tokens: number;
  breakpoint: boolean;
  hash: string;
}

const TTL_MS = 5 * 60_000;

export const tokensOf = (json: string): number => Math.ceil(json.length / 4);

function withoutCacheControl(value: unknown): { json: string; marked: boolean } {
  if (value && typeof value === 'object' && 'cache_control' in value) {
    const { cache_control: _c, ...rest } = value as Record<string, unknown>;
    return { json: JSON.stringify(rest), marked: true };
  }
  return { json: JSON.stringify(value), marked: false };
}

function partsOf(body: { model: string; system?: unknown; tools?: unknown[]; messages: { role: string; content: unknown }[] }): Part[] {
  const raw: { json: string; marked: boolean }[] = [];
  for (const tool of body.tools ?? []) raw.push(withoutCacheControl(tool));
  if (typeof body.system === 'string') raw.push({ json: JSON.stringify(body.system), marked: false });
  else for (const block of (body.system as unknown[] | undefined) ?? []) raw.push(withoutCacheControl(block));
  for (const m of body.messages) {
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as unknown[]);
    raw.push({ json: `role:${m.role}`, marked: false });
    for (const block of blocks) raw.push(withoutCacheControl(block));
  }
  let hash = body.model;
  return raw.map((r) => {
    hash = crypto.createHash('sha256').update(hash).update(r.json).digest('hex');
    return { tokens: tokensOf(r.json), breakpoint: r.marked, hash };
  });
}

export class FakePromptCache {
  private readonly entries = new Map<string, number>();

  /** Counts a request's input; `commit()` updates the cache as the provider would once it accepts the request. */
  count(body: Parameters<typeof partsOf>[0]): { usage: CountedUsage; commit: () => void } {
    const now = Date.now();
    const parts = partsOf(body);
    const total = parts.reduce((n, p) => n + p.tokens, 0);
    const lastBreakpoint = parts.map((p) => p.breakpoint).lastIndexOf(true);
    let read = 0;
    let readThrough = -1;
    for (let i = lastBreakpoint; i >= 0; i--) {
      const expires = this.entries.get(parts[i]!.hash);
      if (expires !== undefined && expires > now) {
        readThrough = i;
        break;
      }
    }
    for (let i = 0; i <= readThrough; i++) read += parts[i]!.tokens;
    let written = 0;
    for (let i = readThrough + 1; i <= lastBreakpoint; i++) written += parts[i]!.tokens;
    const commit = () => {
      for (let i = 0; i <= lastBreakpoint; i++) if (parts[i]!.breakpoint || i === readThrough) this.entries.set(parts[i]!.hash, now + TTL_MS);
    };
    return { usage: { input_tokens: total - read - written, cache_read_input_tokens: read, cache_creation_input_tokens: written }, commit };
  }
}
