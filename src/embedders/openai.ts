// `openai`: the OpenAI embeddings API and every server that speaks it (vLLM, TEI,
// LM Studio, LocalAI, Ollama's /v1) via OPENAI_BASE_URL. Known models carry their
// width and context; an unknown model's width is learnt from its first response.
import { SluiceError } from '../errors.ts';
import { postJson } from './http.ts';
import { estimateTokenizer, fitAll, loadCl100k, lookupModel, makeFitInput, OPENAI_MODELS } from './models.ts';
import type { Embedder } from './types.ts';

export interface OpenAIEmbedderOptions {
  /** Required for api.openai.com; optional for self-hosted compatible servers. */
  apiKey?: string | undefined;
  /** Default https://api.openai.com/v1. */
  baseUrl?: string | undefined;
  /** Default text-embedding-3-small. */
  model?: string | undefined;
  /** Requested width; sent as `dimensions` (text-embedding-3-* can shorten vectors). */
  dimensions?: number | undefined;
  /** Cut over-long inputs to the limit instead of failing with INPUT_TOO_LONG. */
  truncate?: boolean | undefined;
  /** Inputs per request (OpenAI: 2,048). */
  maxBatch?: number | undefined;
  /** Tokens per request (OpenAI: 300,000). */
  maxBatchTokens?: number | undefined;
  /** Token limit per input for models not in the table. */
  maxInputTokens?: number | undefined;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number | undefined;
  /** `base64` halves the response size; default base64 for api.openai.com, float elsewhere. */
  encodingFormat?: 'float' | 'base64' | undefined;
}

interface EmbeddingsResponse {
  data?: Array<{ embedding?: number[] | string; index?: number }>;
}

/** Decodes one embedding; base64 is little-endian float32 as OpenAI sends it. */
function toVector(embedding: number[] | string | undefined): Float32Array {
  if (typeof embedding === 'string') {
    const buf = Buffer.from(embedding, 'base64');
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }
  if (Array.isArray(embedding)) return Float32Array.from(embedding);
  throw new SluiceError('PROVIDER_ERROR', 'openai response has an item without an embedding', {
    retryable: true,
  });
}

/** Creates the OpenAI-compatible embedder; loads the tokenizer before returning. */
export async function createOpenAIEmbedder(opts: OpenAIEmbedderOptions = {}): Promise<Embedder> {
  const baseUrl = (opts.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const model = opts.model ?? 'text-embedding-3-small';
  const official = new URL(baseUrl).hostname === 'api.openai.com';
  if (official && !opts.apiKey) {
    throw new SluiceError(
      'CONFIG_ERROR',
      'OPENAI_API_KEY is not set; the openai embedder needs it for api.openai.com',
    );
  }
  const info = lookupModel(OPENAI_MODELS, model);
  if (
    info &&
    opts.dimensions !== undefined &&
    opts.dimensions !== info.dimensions &&
    !info.flexibleDimensions
  ) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `${model} always returns ${info.dimensions} dimensions; unset SLUICE_EMBED_DIMENSIONS or choose text-embedding-3-*`,
    );
  }
  // Only OpenAI's own models are known to use cl100k_base; others get the estimate.
  const tokenizer = info ? await loadCl100k() : estimateTokenizer;
  const maxInputTokens = info?.maxInputTokens ?? opts.maxInputTokens;
  const fitInput = makeFitInput(tokenizer, maxInputTokens, opts.truncate ?? false, `openai model "${model}"`);
  const encodingFormat = opts.encodingFormat ?? (official ? 'base64' : 'float');
  const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const secrets = opts.apiKey ? [opts.apiKey] : [];

  let reached = false; // once the server has answered, a refused connection is transient
  const embedder: Embedder = {
    id: 'openai',
    model,
    dimensions: opts.dimensions ?? info?.dimensions ?? 0,
    maxBatch: opts.maxBatch ?? 2048,
    maxBatchTokens: opts.maxBatchTokens ?? 300_000,
    maxInputTokens,
    countTokens: (text) => tokenizer.count(text),
    tokenizer: tokenizer.name,
    fitInput,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      if (texts.some((t) => t.length === 0)) {
        throw new SluiceError('NO_TEXT', 'openai rejects empty inputs; drop empty chunks before embedding');
      }
      const input = fitAll(texts, fitInput, maxInputTokens);
      const body: Record<string, unknown> = { model, input, encoding_format: encodingFormat };
      if (opts.dimensions !== undefined) body.dimensions = opts.dimensions;
      const json = (await postJson(`${baseUrl}/embeddings`, body, {
        // Until one request got through, a refused connection means a wrong OPENAI_BASE_URL.
        unreachableSetting: reached ? undefined : 'OPENAI_BASE_URL',
        onAnswer: () => {
          reached = true;
        },
        provider: 'openai',
        model,
        headers,
        secrets,
        signal,
        timeoutMs: opts.timeoutMs,
      })) as EmbeddingsResponse;
      const data = json.data;
      if (!Array.isArray(data) || data.length !== texts.length) {
        throw new SluiceError(
          'PROVIDER_ERROR',
          `openai returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${texts.length} inputs`,
          { retryable: true },
        );
      }
      const out = new Array<Float32Array>(texts.length);
      data.forEach((item, i) => {
        out[item.index ?? i] = toVector(item.embedding);
      });
      const width = out[0]?.length ?? 0;
      if (embedder.dimensions === 0) embedder.dimensions = width; // unknown model: learn it once
      for (const v of out) {
        if (v === undefined || v.length !== embedder.dimensions) {
          throw new SluiceError(
            'DIMENSION_MISMATCH',
            `openai model "${model}" returned ${v?.length ?? 'missing'} dimensions, expected ${embedder.dimensions}`,
          );
        }
      }
      return out;
    },
    async resolveDimensions(signal) {
      if (embedder.dimensions === 0) await embedder.embed(['dimension probe'], signal);
      return embedder.dimensions;
    },
  };
  return embedder;
}
