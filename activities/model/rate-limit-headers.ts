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

/** One figure per limit from `anthropic-ratelimit-<limit>-<which>` headers (absent or malformed: left out). */
function figures(headers: Headers | null | undefined, which: 'remaining' | 'limit'): ProviderRemaining {
  const out: ProviderRemaining = {};
  if (!headers) return out;
  for (const [limit, name] of Object.entries(HEADER_OF) as [CapacityLimit, string][]) {
    const raw = headers.get(`anthropic-ratelimit-${name}-${which}`);
    const n = raw === null ? NaN : Number(raw);
    if (raw !== null && raw.trim() !== '' && Number.isFinite(n) && n >= 0) out[limit] = n;
  }
  return out;
}

export const remainingFromHeaders = (headers: Headers | null | undefined): ProviderRemaining => figures(headers, 'remaining');

/** The per-minute limits the provider says the key has: a deployment configured above them is told. */
export const limitsFromHeaders = (headers: Headers | null | undefined): ProviderRemaining => figures(headers, 'limit');
