// Cost before spending (`ingest --dry-run`, `reindex --dry-run`): documents are
// read, extracted and chunked exactly as the stages would (using and filling the
// same checkpoints, so the real run then skips that work), but nothing is
// embedded. Tokens are counted with the embedder's own tokenizer, as the embed
// stage counts what it sends; texts already in the embedding cache cost nothing.
import { costOf, pricePerMTok } from '../embedders/prices.ts';
import { errorCodeOf, messageOf, SluiceError } from '../errors.ts';
import { getChunkSet, getExtractionHead, missingEmbeddings, putChunkSet } from '../loaders/checkpoints.ts';
import { documentVersions } from '../loaders/documents.ts';
import { getGeneration } from '../loaders/generations.ts';
import { hashFile, type SourceFile } from '../sources/files.ts';
import { readSource } from '../sources/index.ts';
import type { Chunk } from '../transforms/chunk.ts';
import type { Pipeline } from './pipeline.ts';
import { mapLimit } from './producer.ts';
import type { Runtime } from './runtime.ts';
import { makeChunks } from './stages/chunk.ts';
import { textsToEmbed } from './stages/embed.ts';
import { extractToCheckpoint } from './stages/extract.ts';

export interface Estimate {
  embedder: string;
  model: string;
  dimensions: number;
  documents: number;
  chunks: number;
  /** Tokens of every chunk, with the embedder's tokenizer. */
  tokens: number;
  /** Of those, tokens of chunk texts already in the embedding cache for this model. */
  cachedTokens: number;
  /** Tokens the embed stage would send: distinct texts not in the cache. */
  tokensToEmbed: number;
  textsToEmbed: number;
  /** US dollars per million tokens (null: unknown, set SLUICE_EMBED_PRICE_PER_MTOK). */
  pricePerMTok: number | null;
  estimatedCost: number | null;
  failures: { uri: string; code: string; message: string }[];
}

/** Extracts (or finds) and chunks (or finds) each document with a pipeline's settings, then prices it. */
export async function estimate(
  rt: Runtime,
  pipeline: Pipeline,
  docs: { uri: string; hash: string }[],
  signal: AbortSignal = new AbortController().signal,
): Promise<Estimate> {
  const failures: Estimate['failures'] = [];
  const sets = await mapLimit(docs, 4, async (d) => {
    try {
      return await chunksOf(rt, pipeline, d, signal);
    } catch (err) {
      failures.push({ uri: d.uri, code: errorCodeOf(err), message: messageOf(err) });
      return [] as Chunk[];
    }
  });
  const chunks = sets.flat();
  const all = textsToEmbed(pipeline, chunks, new Set(chunks.map((c) => c.contentHash)));
  const missing = await missingEmbeddings(
    rt.pool,
    pipeline.fingerprints.modelKey,
    chunks.map((c) => c.contentHash),
  );
  const tokensOf = (c: Chunk) => all.get(c.contentHash)?.tokens ?? 0;
  const tokens = chunks.reduce((n, c) => n + tokensOf(c), 0);
  const cachedTokens = chunks.filter((c) => !missing.has(c.contentHash)).reduce((n, c) => n + tokensOf(c), 0);
  const todo = [...missing].map((h) => all.get(h)?.tokens ?? 0);
  const tokensToEmbed = todo.reduce((n, t) => n + t, 0);
  const { embedder } = pipeline;
  const price = pricePerMTok(embedder.id, embedder.model, rt.config.embedPricePerMTok);
  return {
    embedder: embedder.id,
    model: embedder.model,
    dimensions: embedder.dimensions,
    documents: docs.length - failures.length,
    chunks: chunks.length,
    tokens,
    cachedTokens,
    tokensToEmbed,
    textsToEmbed: todo.length,
    pricePerMTok: price,
    estimatedCost: costOf(tokensToEmbed, price),
    failures,
  };
}

async function chunksOf(
  rt: Runtime,
  pipeline: Pipeline,
  d: { uri: string; hash: string },
  signal: AbortSignal,
): Promise<Chunk[]> {
  const fp = pipeline.fingerprints.chunk;
  const stored = await getChunkSet(rt.pool, d.hash, fp);
  if (stored) return stored;
  if (!(await getExtractionHead(rt.pool, d.hash, pipeline.fingerprints.extract))) {
    const { bytes, hash } = await readSource(d.uri, rt.limits.maxBytes, rt.config);
    if (hash !== d.hash)
      throw new SluiceError('SOURCE_MISSING', 'the file changed while it was being estimated; run again');
    await extractToCheckpoint(rt, bytes, d.uri, d.hash, signal);
  }
  const chunks = await makeChunks(rt, pipeline, d.hash, signal);
  await putChunkSet(rt.pool, d.hash, fp, chunks);
  return chunks;
}

export interface IngestEstimate extends Estimate {
  files: number;
  /** Files whose stored version is the same (a real ingest skips them). */
  unchanged: number;
  /** Files over SLUICE_MAX_FILE_BYTES. */
  refused: number;
}

/**
 * `ingest --dry-run`: what `ingest` would queue (new and changed files), priced
 * with the pipeline the workers would use: the collection's active generation,
 * or the configured settings for a new collection. Creates nothing.
 */
export async function estimateIngest(
  rt: Runtime,
  files: SourceFile[],
  opts: { collection: string; force?: boolean },
): Promise<IngestEstimate> {
  const max = rt.config.maxFileBytes;
  const hashes = await mapLimit(files, 8, (f) =>
    f.bytes > max ? Promise.resolve(undefined) : hashFile(f.path),
  );
  const exists = await getGeneration(rt.pool, opts.collection);
  if (exists) await rt.collection(opts.collection); // DIMENSION_MISMATCH as the real ingest would say
  const pipeline = exists
    ? (await rt.pipelineFor({ collection: opts.collection })).pipeline
    : await rt.pipelineFromConfig(rt.config);
  const known = await documentVersions(
    rt.pool,
    opts.collection,
    files.map((f) => f.path),
  );
  const docs: { uri: string; hash: string }[] = [];
  let unchanged = 0;
  files.forEach((f, i) => {
    const hash = hashes[i];
    if (hash === undefined) return;
    const k = known.get(f.path);
    if (!opts.force && k && k.content_hash === hash && k.status !== 'deleted') unchanged++;
    else docs.push({ uri: f.path, hash });
  });
  const est = await estimate(rt, pipeline, docs);
  return { ...est, files: files.length, unchanged, refused: hashes.filter((h) => h === undefined).length };
}
