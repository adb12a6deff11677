/**
 * USD per million tokens, by model (Anthropic's published list prices). Extend or override with
 * MODEL_PRICING. Prompt-cache rates default to Anthropic's multipliers of the input price (a
 * 5-minute cache write costs 1.25×, a cache read 0.1×). A model missing from the table is priced
 * like the most expensive one here, so a cost cap errs on the side of stopping early.
 */
import type { Usage } from '../contract/run';

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWritePerMTok?: number;
  cacheReadPerMTok?: number;
}

export const CACHE_WRITE_MULTIPLIER = 1.25;
export const CACHE_READ_MULTIPLIER = 0.1;

export const DEFAULT_PRICING: Record<string, ModelPrice> = {
  demo: { inputPerMTok: 0, outputPerMTok: 0 },
  'claude-fable-5-1': { inputPerMTok: 10, outputPerMTok: 50 },
  'claude-opus-5-5': { inputPerMTok: 4, outputPerMTok: 20 },
  'claude-opus-5': { inputPerMTok: 5, outputPerMTok: 25 },
  'claude-sonnet-5-5': { inputPerMTok: 2, outputPerMTok: 10 },
  'claude-sonnet-5': { inputPerMTok: 2, outputPerMTok: 10 },
  'claude-sonnet-4-6': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
};

/** What the provider reports a call used, before pricing. */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export class PricingTable {
  /** A Map, not an object: a model named `constructor` or `__proto__` must not find a prototype's member. */
  private readonly table: Map<string, Required<ModelPrice>>;
  private readonly fallback: Required<ModelPrice>;

  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.table = new Map();
    for (const [model, price] of [...Object.entries(DEFAULT_PRICING), ...Object.entries(overrides)]) this.table.set(model, withCacheRates(price));
    const prices = [...this.table.values()];
    const most = (pick: (p: Required<ModelPrice>) => number) => Math.max(...prices.map(pick));
    this.fallback = {
      inputPerMTok: most((p) => p.inputPerMTok),
      outputPerMTok: most((p) => p.outputPerMTok),
      cacheWritePerMTok: most((p) => p.cacheWritePerMTok),
      cacheReadPerMTok: most((p) => p.cacheReadPerMTok),
    };
  }

  /** Whether the table names this model (the API refuses models it does not know). */
  has(model: string): boolean {
    return this.table.has(model);
  }

  priceOf(model: string): Required<ModelPrice> {
    return this.table.get(model) ?? this.fallback;
  }

  usageFor(model: string, tokens: TokenCounts): Usage {
    const price = this.priceOf(model);
    const cacheRead = tokens.cacheReadTokens ?? 0;
    const cacheWrite = tokens.cacheWriteTokens ?? 0;
    const costUsd =
      (tokens.inputTokens * price.inputPerMTok +
        tokens.outputTokens * price.outputPerMTok +
        cacheWrite * price.cacheWritePerMTok +
        cacheRead * price.cacheReadPerMTok) /
      1_000_000;
    return {
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
      costUsd,
      ...(cacheRead > 0 && { cacheReadTokens: cacheRead }),
      ...(cacheWrite > 0 && { cacheWriteTokens: cacheWrite }),
    };
  }

  /** The most a call could cost: its input at the full input rate, and every output token it may write. */
  worstCaseUsd(model: string, inputTokens: number, maxOutputTokens: number): number {
    const price = this.priceOf(model);
    return (inputTokens * price.inputPerMTok + maxOutputTokens * price.outputPerMTok) / 1_000_000;
  }
}

function withCacheRates(p: ModelPrice): Required<ModelPrice> {
  return {
    inputPerMTok: p.inputPerMTok,
    outputPerMTok: p.outputPerMTok,
    cacheWritePerMTok: p.cacheWritePerMTok ?? p.inputPerMTok * CACHE_WRITE_MULTIPLIER,
    cacheReadPerMTok: p.cacheReadPerMTok ?? p.inputPerMTok * CACHE_READ_MULTIPLIER,
  };
}
