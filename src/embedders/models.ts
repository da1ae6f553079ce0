// What sluice knows about embedding models up front (width, context) and how it
// counts their tokens. OpenAI models use their real tokenizer (cl100k_base via
// js-tiktoken, loaded on first use because the rank table is ~1 MB); everything
// else uses a documented, deliberately pessimistic estimate.
import { SluiceError } from '../errors.ts';
import type { FittedInput } from './types.ts';

export interface ModelInfo {
  dimensions: number;
  maxInputTokens: number;
  /** Accepts a smaller `dimensions` request (Matryoshka models). */
  flexibleDimensions?: boolean;
}

/** OpenAI embedding models: widths and the 8,191-token input limit. */
export const OPENAI_MODELS: Record<string, ModelInfo> = {
  'text-embedding-3-small': { dimensions: 1536, maxInputTokens: 8191, flexibleDimensions: true },
  'text-embedding-3-large': { dimensions: 3072, maxInputTokens: 8191, flexibleDimensions: true },
  'text-embedding-ada-002': { dimensions: 1536, maxInputTokens: 8191 },
};

/** Common Ollama embedding models; others are discovered from the first response. */
export const OLLAMA_MODELS: Record<string, ModelInfo> = {
  'nomic-embed-text': { dimensions: 768, maxInputTokens: 8192, flexibleDimensions: true },
  'mxbai-embed-large': { dimensions: 1024, maxInputTokens: 512 },
  'all-minilm': { dimensions: 384, maxInputTokens: 256 },
  'snowflake-arctic-embed': { dimensions: 1024, maxInputTokens: 512 },
  'bge-m3': { dimensions: 1024, maxInputTokens: 8192 },
};

/** Looks a model up, ignoring an Ollama-style `:tag` suffix. */
export function lookupModel(table: Record<string, ModelInfo>, model: string): ModelInfo | undefined {
  return table[model] ?? table[model.replace(/:[^/]*$/, '')];
}

/** Counts and truncates by tokens. */
export interface Tokenizer {
  name: string;
  count(text: string): number;
  /** The longest prefix of `text` with at most `max` tokens. */
  truncate(text: string, max: number): string;
}

let cl100k: Promise<Tokenizer> | undefined;

/** The cl100k_base tokenizer, loaded once per process on first request. */
export function loadCl100k(): Promise<Tokenizer> {
  cl100k ??= (async () => {
    const [{ Tiktoken }, ranks] = await Promise.all([
      import('js-tiktoken/lite'),
      import('js-tiktoken/ranks/cl100k_base'),
    ]);
    const enc = new Tiktoken(ranks.default);
    return {
      name: 'cl100k_base',
      count: (text) => enc.encode(text).length,
      truncate: (text, max) => {
        const ids = enc.encode(text);
        return ids.length <= max ? text : enc.decode(ids.slice(0, max));
      },
    };
  })();
  return cl100k;
}

/**
 * Estimate for models whose tokenizer we do not ship: one token per 3 UTF-8 bytes,
 * rounded up. BPE and WordPiece tokenizers average ~4 bytes per token on English
 * and ~3 on code or most other scripts, so this overestimates in the common case;
 * erring high keeps inputs under the model's context at the cost of slightly
 * smaller batches and chunks.
 */
export const estimateTokenizer: Tokenizer = {
  name: 'estimate-bytes/3',
  count: (text) => Math.ceil(Buffer.byteLength(text, 'utf8') / 3),
  truncate: (text, max) => {
    const buf = Buffer.from(text, 'utf8');
    if (buf.length <= max * 3) return text;
    // Decoding a cut mid-character yields U+FFFD; drop it.
    return buf
      .subarray(0, max * 3)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
  },
};

/**
 * A tokenizer by name, for places that cannot receive functions (the chunking
 * thread gets the embedder's tokenizer name and rebuilds the counter there).
 */
export async function loadTokenizer(name: string): Promise<Tokenizer> {
  if (name === 'cl100k_base') return loadCl100k();
  if (name === estimateTokenizer.name) return estimateTokenizer;
  throw new SluiceError('CONFIG_ERROR', `unknown tokenizer "${name}"`);
}

/**
 * Builds the check every embedder applies before sending: an input over the
 * model's limit is an INPUT_TOO_LONG error, or is cut to the limit by tokens
 * when truncation is configured (SLUICE_EMBED_TRUNCATE).
 */
export function makeFitInput(
  tokenizer: Tokenizer,
  maxInputTokens: number | undefined,
  truncate: boolean,
  label: string,
): (text: string) => FittedInput {
  return (text) => {
    const tokens = tokenizer.count(text);
    if (maxInputTokens === undefined || tokens <= maxInputTokens) return { text, tokens };
    if (truncate) {
      const cut = tokenizer.truncate(text, maxInputTokens);
      return { text: cut, tokens: tokenizer.count(cut) };
    }
    throw new SluiceError(
      'INPUT_TOO_LONG',
      `an input of ${tokens} tokens exceeds the ${maxInputTokens}-token limit of ${label}; ` +
        'chunk smaller or set SLUICE_EMBED_TRUNCATE=true to cut inputs to the limit',
      { details: { tokens, maxInputTokens } },
    );
  };
}

/**
 * Cheap pre-send guard for `embed()`: every token is at least one UTF-8 byte
 * (plus at most two special tokens for BERT-style models), so short texts skip
 * tokenisation entirely.
 */
export function fitAll(
  texts: string[],
  fitOne: (t: string) => FittedInput,
  maxInputTokens?: number,
): string[] {
  if (maxInputTokens === undefined) return texts;
  return texts.map((t) => (Buffer.byteLength(t, 'utf8') + 2 <= maxInputTokens ? t : fitOne(t).text));
}
