// `hash`: a deterministic, offline, lexical embedder. It hashes normalised word
// unigrams and bigrams into a signed vector (the "hashing trick") and L2-normalises
// it. Texts that share words land close together; synonyms do not. It is for
// tests, air-gapped trials and benchmarks of the pipeline itself, not for
// semantic search quality.
import type { Embedder } from './types.ts';

export interface HashEmbedderOptions {
  /** Vector width (default 384). */
  dimensions?: number;
}

const WORD = /[\p{L}\p{N}]+/gu;

// FNV-1a 32-bit: fast, stable across runs and platforms.
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Embeds one text; exported for the benchmark's in-process baseline. */
export function hashVector(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  let prev: string | undefined;
  for (const w of words) {
    addFeature(v, w, 1);
    if (prev !== undefined) addFeature(v, `${prev} ${w}`, 0.5);
    prev = w;
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += v[i]! * v[i]!;
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dimensions; i++) v[i]! *= inv;
  }
  return v;
}

function addFeature(v: Float32Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  const sign = h & 0x80000000 ? -1 : 1;
  v[h % v.length]! += sign * weight;
}

function terms(text: string): Set<string> {
  return new Set(text.normalize('NFKC').toLowerCase().match(WORD) ?? []);
}

/**
 * Share of the query's distinct words found in `text`. The hashing trick folds
 * every word into `dimensions` buckets, so unrelated words collide and a nonsense
 * query still gets a cosine of 0.3–0.7 against short chunks; gating the score on
 * real shared words makes "no known term" score 0.
 */
export function termOverlap(query: string, text: string): number {
  const q = terms(query);
  if (q.size === 0) return 0;
  const t = terms(text);
  let shared = 0;
  for (const w of q) if (t.has(w)) shared++;
  return shared / q.size;
}

export function createHashEmbedder(opts: HashEmbedderOptions = {}): Embedder {
  const dimensions = opts.dimensions ?? 384;
  return {
    id: 'hash',
    model: `hash-v1`,
    dimensions,
    maxBatch: 2048,
    countTokens: (text) => (text.match(WORD) ?? []).length,
    termOverlap,
    async embed(texts) {
      return texts.map((t) => hashVector(t, dimensions));
    },
  };
}
