// Embedder registry: picks the provider named by SLUICE_EMBEDDER. Providers other
// than `hash` are imported lazily so a missing optional SDK only affects that provider.
import type { Config } from '../config.ts';
import { createHashEmbedder } from './hash.ts';
import type { Embedder } from './types.ts';

export const EMBEDDER_IDS = ['hash', 'openai', 'ollama', 'local'] as const;

export async function createEmbedder(config: Config): Promise<Embedder> {
  switch (config.embedder) {
    case 'hash': {
      const opts = config.embedDimensions === undefined ? {} : { dimensions: config.embedDimensions };
      return createHashEmbedder(opts);
    }
    default:
      throw new Error(`embedder "${config.embedder}" is not available yet`);
  }
}
