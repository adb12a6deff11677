/**
 * What the provider says is left of its rate limits, from the `anthropic-ratelimit-*` headers it
 * sends with every response (a 429 included). The capacity books follow these when they say less
 * is left than the books think: someone else is using the same key.
 */
import type { CapacityLimit } from '../../contract/run';

export type ProviderRemaining = Partial<Record<CapacityLimit, number>>;

const HEADER_OF: Record<CapacityLimit, string> = {
  rpm: 'requests',
  input_tpm: 'input-tokens',
  output_tpm: 'output-tokens',
};

export function remainingFromHeaders(headers: Headers | null | undefined): ProviderRemaining {
  const remaining: ProviderRemaining = {};
  if (!headers) return remaining;
  for (const [limit, name] of Object.entries(HEADER_OF) as [CapacityLimit, string][]) {
    const raw = headers.get(`anthropic-ratelimit-${name}-remaining`);
    const n = raw === null ? NaN : Number(raw);
    if (raw !== null && raw.trim() !== '' && Number.isFinite(n) && n >= 0) remaining[limit] = n;
  }
  return remaining;
}
