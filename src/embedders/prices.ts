// Published list prices of hosted embedding models, in US dollars per million
// input tokens, for `--dry-run` estimates. Providers change prices: override the
// configured model's with SLUICE_EMBED_PRICE_PER_MTOK. Local providers cost nothing.

export const PRICES_PER_MTOK: Record<string, number> = {
  'openai:text-embedding-3-small': 0.02,
  'openai:text-embedding-3-large': 0.13,
  'openai:text-embedding-ada-002': 0.1,
};

const LOCAL = new Set(['hash', 'ollama', 'local']);

/** Price per million tokens, or null when unknown (a hosted model not in the table, no override). */
export function pricePerMTok(embedder: string, model: string, override?: number): number | null {
  if (override !== undefined) return override;
  if (LOCAL.has(embedder)) return 0;
  return PRICES_PER_MTOK[`${embedder}:${model}`] ?? null;
}

/** Dollars for a token count at a price per million (null stays null). */
export function costOf(tokens: number, perMTok: number | null): number | null {
  return perMTok === null ? null : (tokens / 1_000_000) * perMTok;
}
