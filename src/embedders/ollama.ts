// `ollama`: Ollama's native /api/embed at OLLAMA_HOST. Ollama truncates long
// inputs silently by default, so we send `truncate` explicitly: sluice's rule is
// to fail an over-long input unless truncation is configured.
import { SluiceError } from '../errors.ts';
import { postJson } from './http.ts';
import { estimateTokenizer, fitAll, lookupModel, makeFitInput, OLLAMA_MODELS } from './models.ts';
import type { Embedder } from './types.ts';

export interface OllamaEmbedderOptions {
  /** Default http://127.0.0.1:11434. */
  host?: string | undefined;
  /** Default nomic-embed-text. */
  model?: string | undefined;
  /** Requested width (models that support shortening). */
  dimensions?: number | undefined;
  truncate?: boolean | undefined;
  /** Inputs per request; Ollama has no cap, large batches only add latency (default 128). */
  maxBatch?: number | undefined;
  /** Token limit per input for models not in the table. */
  maxInputTokens?: number | undefined;
  timeoutMs?: number | undefined;
}

interface EmbedResponse {
  embeddings?: number[][];
}

/** Creates the Ollama embedder. Token counts are estimates (see estimateTokenizer). */
export async function createOllamaEmbedder(opts: OllamaEmbedderOptions = {}): Promise<Embedder> {
  const host = (opts.host ?? 'http://127.0.0.1:11434').replace(/\/+$/, '');
  const model = opts.model ?? 'nomic-embed-text';
  const info = lookupModel(OLLAMA_MODELS, model);
  const maxInputTokens = info?.maxInputTokens ?? opts.maxInputTokens;
  const truncate = opts.truncate ?? false;
  const fitInput = makeFitInput(estimateTokenizer, maxInputTokens, truncate, `ollama model "${model}"`);

  let reached = false; // once the server has answered, a refused connection is transient
  const embedder: Embedder = {
    id: 'ollama',
    model,
    dimensions: opts.dimensions ?? info?.dimensions ?? 0,
    maxBatch: opts.maxBatch ?? 128,
    maxInputTokens,
    countTokens: estimateTokenizer.count,
    tokenizer: estimateTokenizer.name,
    fitInput,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      const body: Record<string, unknown> = {
        model,
        input: fitAll(texts, fitInput, maxInputTokens),
        truncate,
      };
      if (opts.dimensions !== undefined) body.dimensions = opts.dimensions;
      const json = (await postJson(`${host}/api/embed`, body, {
        // Until one request got through, a refused connection means a wrong OLLAMA_HOST.
        unreachableSetting: reached ? undefined : 'OLLAMA_HOST',
        onAnswer: () => {
          reached = true;
        },
        provider: 'ollama',
        model,
        signal,
        timeoutMs: opts.timeoutMs,
        notFoundHint: `run \`ollama pull ${model}\` on ${new URL(host).host}`,
      })) as EmbedResponse;
      const rows = json.embeddings;
      if (!Array.isArray(rows) || rows.length !== texts.length) {
        throw new SluiceError(
          'PROVIDER_ERROR',
          `ollama returned a malformed response for ${texts.length} inputs`,
          {
            retryable: true,
          },
        );
      }
      if (embedder.dimensions === 0) embedder.dimensions = rows[0]?.length ?? 0;
      return rows.map((row) => {
        if (row.length !== embedder.dimensions) {
          throw new SluiceError(
            'DIMENSION_MISMATCH',
            `ollama model "${model}" returned ${row.length} dimensions, expected ${embedder.dimensions}`,
          );
        }
        return Float32Array.from(row);
      });
    },
    async resolveDimensions(signal) {
      if (embedder.dimensions === 0) await embedder.embed(['dimension probe'], signal);
      return embedder.dimensions;
    },
  };
  return embedder;
}
