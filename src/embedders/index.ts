// Embedder registry: picks the provider named by SLUICE_EMBEDDER. Providers other
// than `hash` are imported lazily so a missing optional SDK only affects that provider.
import type { Config } from '../config.ts';
import { createHashEmbedder } from './hash.ts';
import type { Embedder } from './types.ts';

export const EMBEDDER_IDS = ['hash', 'openai', 'ollama', 'local'] as const;

/** Builds the configured embedder; network providers are ready, `local` has its model loaded. */
export async function createEmbedder(config: Config): Promise<Embedder> {
  const model = config.embedModel;
  const dimensions = config.embedDimensions;
  const truncate = config.embedTruncate;
  switch (config.embedder) {
    case 'hash': {
      const opts = dimensions === undefined ? {} : { dimensions };
      return createHashEmbedder(opts);
    }
    case 'openai': {
      const { createOpenAIEmbedder } = await import('./openai.ts');
      return createOpenAIEmbedder({
        apiKey: config.openaiApiKey,
        baseUrl: config.openaiBaseUrl,
        model,
        dimensions,
        truncate,
      });
    }
    case 'ollama': {
      const { createOllamaEmbedder } = await import('./ollama.ts');
      return createOllamaEmbedder({ host: config.ollamaHost, model, dimensions, truncate });
    }
    case 'local': {
      const { createLocalEmbedder } = await import('./local.ts');
      return createLocalEmbedder({
        model,
        localModelDir: config.localModelDir,
        cacheDir: config.modelCacheDir,
        truncate,
      });
    }
    default:
      throw new Error(`embedder "${config.embedder}" is not available yet`);
  }
}
