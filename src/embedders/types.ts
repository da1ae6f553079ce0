// The embedder contract: strings in, vectors out. Providers describe their own
// limits so the embed stage can pack requests without knowing the provider.

export interface Embedder {
  /** Provider id: hash | openai | ollama | local. */
  id: string;
  /** Model name as the provider knows it. */
  model: string;
  /** Vector width. May be discovered after the first call for unknown models (see resolveDimensions). */
  dimensions: number;
  /** Largest number of inputs in one request. */
  maxBatch: number;
  /** Largest token count of one input (undefined: no limit known). */
  maxInputTokens?: number;
  /** Largest token sum of one request (undefined: no limit known). */
  maxBatchTokens?: number;
  /** Counts tokens the way the provider does, or estimates; used for packing and chunk sizing. */
  countTokens(text: string): number;
  /**
   * Name of the tokenizer behind countTokens that `loadTokenizer` can rebuild in
   * another thread (e.g. "cl100k_base"), so chunking can size chunks to
   * maxInputTokens up front. Undefined: chunks are sized in characters only.
   */
  tokenizer?: string;
  /** Embeds texts in order; one vector per input. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /**
   * Checks one input against maxInputTokens before it is queued: returns the text
   * to send (cut to the limit if truncation is configured) and its token count, or
   * throws INPUT_TOO_LONG. Lets a batcher reject one caller without failing a batch.
   */
  fitInput?(text: string): FittedInput;
  /**
   * Lexical embedders only: how much of a query's wording a stored text has (0..1).
   * `search` multiplies cosine scores by it, so a query sharing no term with a
   * chunk scores 0 instead of whatever hash collisions give.
   */
  termOverlap?(query: string, text: string): number;
  /** Resolves the vector width, embedding a probe text if it is not known yet. */
  resolveDimensions?(signal?: AbortSignal): Promise<number>;
  /** Releases sockets, sessions or model memory. */
  close?(): Promise<void>;
}

/** An input ready to send, with its token count. */
export interface FittedInput {
  text: string;
  tokens: number;
}
