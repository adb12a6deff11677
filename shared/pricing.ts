/**
 * USD per million tokens, by model (Anthropic's published list prices). Extend or override with
 * MODEL_PRICING. A model missing from the table is priced like the most expensive one here, so
 * a cost cap errs on the side of stopping early rather than overspending.
 */
import type { Usage } from '../contract/run';

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

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

export class PricingTable {
  private readonly table: Record<string, ModelPrice>;
  private readonly fallback: ModelPrice;

  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.table = { ...DEFAULT_PRICING, ...overrides };
    const prices = Object.values(this.table);
    this.fallback = {
      inputPerMTok: Math.max(...prices.map((p) => p.inputPerMTok)),
      outputPerMTok: Math.max(...prices.map((p) => p.outputPerMTok)),
    };
  }

  priceOf(model: string): ModelPrice {
    return this.table[model] ?? this.fallback;
  }

  usageFor(model: string, tokens: { inputTokens: number; outputTokens: number }): Usage {
    const price = this.priceOf(model);
    const costUsd = (tokens.inputTokens * price.inputPerMTok + tokens.outputTokens * price.outputPerMTok) / 1_000_000;
    return { inputTokens: tokens.inputTokens, outputTokens: tokens.outputTokens, costUsd };
  }
}
