// `sluice compare`: the same queries on two generations of a collection, so a
// user sees what a switch would change before making it: top-k overlap (by
// chunk text, and by document) and how documents move in the ranking.
import { SluiceError } from '../errors.ts';
import { type GenerationInfo, getGeneration, listGenerations } from '../loaders/generations.ts';
import { type SearchHit, sampleChunkTexts, searchChunks } from '../loaders/pgvector.ts';
import type { Runtime } from './runtime.ts';

export interface QueryComparison {
  query: string;
  /** Share of the top k chunk texts found by both generations (0..1). */
  chunkOverlap: number;
  /** Share of documents in both top-k lists among those in either (0..1). */
  documentOverlap: number;
  /** Documents' best rank (1-based) in each generation; null: not in that top k. */
  ranks: { uri: string; from: number | null; to: number | null }[];
}

export interface Comparison {
  collection: string;
  from: number;
  to: number;
  k: number;
  queries: QueryComparison[];
  meanChunkOverlap: number;
  meanDocumentOverlap: number;
}

/** Words from the start of a chunk, as a query a user might type. */
export function queryFromText(text: string, words = 12): string {
  return text.split(/\s+/).filter(Boolean).slice(0, words).join(' ');
}

function bestRanks(hits: SearchHit[]): Map<string, number> {
  const m = new Map<string, number>();
  hits.forEach((h, i) => {
    if (!m.has(h.uri)) m.set(h.uri, i + 1);
  });
  return m;
}

export async function compareGenerations(
  rt: Runtime,
  collection: string,
  opts: { queries?: string[]; k: number; generation?: number; samples?: number },
): Promise<Comparison> {
  const active = await getGeneration(rt.pool, collection);
  if (!active) throw new SluiceError('CONFIG_ERROR', `collection "${collection}" does not exist`);
  let other: GenerationInfo | undefined;
  if (opts.generation !== undefined) other = await getGeneration(rt.pool, collection, opts.generation);
  else {
    const gens = await listGenerations(rt.pool, collection);
    const pick = gens.find((g) => !g.active && g.state !== 'retired');
    other = pick && (await getGeneration(rt.pool, collection, pick.generation));
  }
  if (!other || other.state === 'retired' || other.generation === active.generation) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `collection "${collection}" has no other generation to compare with: build one with \`sluice reindex\``,
    );
  }
  const queries =
    opts.queries ??
    (await sampleChunkTexts(rt.pool, active, opts.samples ?? 10)).map((t) => queryFromText(t));
  const sides = await Promise.all(
    [active, other].map(async (gen) => {
      const { pipeline } = await rt.pipelineFor({ collection, generation: gen.generation });
      const vectors = queries.length > 0 ? await pipeline.embedder.embed(queries) : [];
      return Promise.all(vectors.map((v) => searchChunks(rt.pool, gen, v, opts.k)));
    }),
  );
  const [a, b] = sides as [SearchHit[][], SearchHit[][]];
  const results = queries.map((query, i): QueryComparison => {
    const x = a[i] ?? [];
    const y = b[i] ?? [];
    const texts = new Set(y.map((h) => h.text));
    const shared = x.filter((h) => texts.has(h.text)).length;
    const rx = bestRanks(x);
    const ry = bestRanks(y);
    const uris = [...new Set([...rx.keys(), ...ry.keys()])];
    const both = uris.filter((u) => rx.has(u) && ry.has(u)).length;
    return {
      query,
      chunkOverlap: opts.k > 0 ? shared / Math.max(1, Math.min(opts.k, Math.max(x.length, y.length))) : 0,
      documentOverlap: uris.length > 0 ? both / uris.length : 1,
      ranks: uris.map((uri) => ({ uri, from: rx.get(uri) ?? null, to: ry.get(uri) ?? null })),
    };
  });
  const mean = (f: (q: QueryComparison) => number) =>
    results.length > 0 ? results.reduce((n, q) => n + f(q), 0) / results.length : 0;
  return {
    collection,
    from: active.generation,
    to: other.generation,
    k: opts.k,
    queries: results,
    meanChunkOverlap: mean((q) => q.chunkOverlap),
    meanDocumentOverlap: mean((q) => q.documentOverlap),
  };
}
