// `local`: in-process ONNX embeddings via @huggingface/transformers (default
// Xenova/all-MiniLM-L6-v2, 384 dimensions, mean pooling + L2 normalisation, as
// sentence-transformers does). Weights come from the model hub on first use and
// are cached; air-gapped machines point SLUICE_LOCAL_MODEL_DIR at a copied model.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { messageOf, SluiceError } from '../errors.ts';
import { fitAll, makeFitInput, type Tokenizer } from './models.ts';
import type { Embedder } from './types.ts';

export interface LocalEmbedderOptions {
  /** Hub model id (default Xenova/all-MiniLM-L6-v2). */
  model?: string | undefined;
  /** A model directory (with config.json), or a folder holding `<org>/<name>/`; disables downloads. */
  localModelDir?: string | undefined;
  /** Where downloaded weights are cached (default: the library's own cache). */
  cacheDir?: string | undefined;
  /** Hub mirror, like HF_ENDPOINT (default https://huggingface.co/). */
  remoteHost?: string | undefined;
  truncate?: boolean | undefined;
  /** Inputs per forward pass; bounds memory (default 32). */
  maxBatch?: number | undefined;
  /** Overrides the tokenizer's model_max_length. */
  maxInputTokens?: number | undefined;
  /** ONNX weight precision (default fp32). */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | undefined;
}

// The slice of transformers.js we use; its own typings are mostly `any`.
interface HfTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  model_max_length?: number;
}
interface HfTensor {
  dims: number[];
  data: Float32Array;
}
interface HfExtractor {
  (texts: string[], opts: { pooling: 'mean'; normalize: boolean }): Promise<HfTensor>;
  tokenizer: HfTokenizer;
  model: { config?: { hidden_size?: number } };
  dispose?(): Promise<void>;
}

const NETWORK = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|network/i;

/** The message an offline machine gets: what failed and exactly how to fix it. */
export function offlineMessage(model: string, host: string, cause: string): string {
  return (
    `could not download the weights for local model "${model}" from ${host} (${cause}). ` +
    'This machine cannot reach the model hub. Download the model where there is network access ' +
    `(e.g. \`git clone https://huggingface.co/${model}\`), copy it here, and set ` +
    'SLUICE_LOCAL_MODEL_DIR to that directory (it must contain config.json, tokenizer.json and onnx/model.onnx), ' +
    `or to a folder that holds ${model}/.`
  );
}

function causeOf(err: unknown): string {
  const c = (err as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? messageOf(err);
}

/**
 * The optional dependency, loaded only when `local` is chosen. An install without it
 * (`npm ci --omit=optional`, the Docker image's default) gets one line saying how to add it.
 */
export async function importTransformers(
  load: () => Promise<typeof import('@huggingface/transformers')> = () => import('@huggingface/transformers'),
): Promise<typeof import('@huggingface/transformers')> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new SluiceError(
      'CONFIG_ERROR',
      'SLUICE_EMBEDDER=local needs the optional package @huggingface/transformers, which is not installed: ' +
        'run `npm install @huggingface/transformers` (or `npm ci` without --omit=optional; in Docker, build ' +
        'with --build-arg WITH_LOCAL_EMBEDDER=1), or choose another SLUICE_EMBEDDER',
      { cause: err },
    );
  }
}

/** Loads the model (downloading it if allowed) and returns the embedder. */
export async function createLocalEmbedder(opts: LocalEmbedderOptions = {}): Promise<Embedder> {
  const { pipeline, env } = await importTransformers();
  let model = opts.model ?? 'Xenova/all-MiniLM-L6-v2';
  const host = opts.remoteHost ?? env.remoteHost;
  if (opts.localModelDir) {
    const dir = resolve(opts.localModelDir);
    // A directory that is itself the model (has config.json) is addressed by its parent.
    const isModelDir = existsSync(resolve(dir, 'config.json'));
    env.localModelPath = isModelDir ? `${dirname(dir)}/` : `${dir}/`;
    if (isModelDir) model = basename(dir);
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
  }
  if (opts.remoteHost) env.remoteHost = opts.remoteHost;
  if (opts.cacheDir) env.cacheDir = opts.cacheDir;

  let extractor: HfExtractor;
  try {
    extractor = (await pipeline('feature-extraction', model, {
      dtype: opts.dtype ?? 'fp32',
      ...(opts.cacheDir ? { cache_dir: opts.cacheDir } : {}),
    })) as unknown as HfExtractor;
  } catch (err) {
    if (opts.localModelDir) {
      throw new SluiceError(
        'CONFIG_ERROR',
        `local model "${model}" was not found in SLUICE_LOCAL_MODEL_DIR=${opts.localModelDir} ` +
          `(${messageOf(err)}); the directory must contain config.json, tokenizer.json and onnx/model.onnx`,
        { cause: err },
      );
    }
    if (NETWORK.test(`${messageOf(err)} ${causeOf(err)}`)) {
      throw new SluiceError('CONFIG_ERROR', offlineMessage(model, host, causeOf(err)), { cause: err });
    }
    throw new SluiceError('CONFIG_ERROR', `could not load local model "${model}": ${messageOf(err)}`, {
      cause: err,
    });
  }

  const tk = extractor.tokenizer;
  const tokenizer: Tokenizer = {
    name: `${model} tokenizer`,
    count: (text) => tk.encode(text).length,
    truncate: (text, max) => {
      const ids = tk.encode(text, { add_special_tokens: false });
      // Two ids are reserved for [CLS] and [SEP], which the pipeline adds back.
      return ids.length + 2 <= max ? text : tk.decode(ids.slice(0, Math.max(0, max - 2)));
    },
  };
  const declared = tk.model_max_length;
  const maxInputTokens =
    opts.maxInputTokens ?? (declared !== undefined && declared > 0 && declared <= 1_000_000 ? declared : 512);
  const fitInput = makeFitInput(tokenizer, maxInputTokens, opts.truncate ?? false, `local model "${model}"`);

  return {
    id: 'local',
    model,
    dimensions: extractor.model.config?.hidden_size ?? 384,
    maxBatch: opts.maxBatch ?? 32,
    maxInputTokens,
    countTokens: tokenizer.count,
    fitInput,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      signal?.throwIfAborted();
      const out = await extractor(fitAll(texts, fitInput, maxInputTokens), {
        pooling: 'mean',
        normalize: true,
      });
      const width = out.dims[1] ?? 0;
      return texts.map((_, i) => out.data.slice(i * width, (i + 1) * width));
    },
    async close() {
      await extractor.dispose?.();
    },
  };
}
