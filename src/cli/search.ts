// `sluice search "<query>"`: embed the query and list the nearest chunks. Reads
// Postgres only: it works (and fails fast) without Redis.
import type { Command } from 'commander';
import { createEmbedder } from '../embedders/index.ts';
import type { Embedder } from '../embedders/types.ts';
import type { SearchHit } from '../loaders/pgvector.ts';
import { escapeControls } from '../terminal-text.ts';
import { withPool } from './context.ts';
import { type CliIO, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { wholeNumber } from './numbers.ts';

/**
 * Below this best score, `search` says the results are probably not a match. Semantic
 * models put unrelated text at ~0.0–0.2; the lexical `hash` embedder scores 0 for no
 * shared word and ~0.1–0.5 for real matches (long chunks dilute a short query).
 */
export const WEAK_SCORE = { semantic: 0.2, lexical: 0.05 } as const;

export function register(program: Command, io: CliIO): void {
  program
    .command('search')
    .description('find the chunks nearest to a query')
    .argument('<query>', 'text to search for')
    .option('-k <n>', 'number of results', '5')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--json', 'print results as JSON on stdout')
    .action(async (query: string, opts: { k: string; collection?: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      if (!/[\p{L}\p{N}]/u.test(query))
        throw new ExitError(EXIT.usage, 'error: the query is empty: give some words to search for');
      const k = wholeNumber(opts.k, '-k', 1, 1000);
      const config = readConfig(io, g, { collection: opts.collection });
      await withPool(config, async (pool) => {
        const { getCollection, searchChunks } = await import('../loaders/pgvector.ts');
        const { configFor } = await import('../queue/pipeline.ts');
        const collection = await getCollection(pool, config.collection);
        if (!collection)
          throw new ExitError(
            EXIT.usage,
            `error: collection "${config.collection}" does not exist yet: ingest something first`,
          );
        // The query is embedded as the active generation was (its model and width), not as configured.
        const embedder = await createEmbedder(
          configFor(config, {
            embedder: collection.embedder,
            model: collection.model,
            dimensions: collection.dimensions,
            chunkSize: config.chunkSize,
            chunkOverlap: config.chunkOverlap,
          }),
        );
        let hits: SearchHit[];
        try {
          const [vector] = await embedder.embed([query]);
          // A lexical embedder re-scores a wider candidate set by shared words.
          // At least 50 candidates, so the top results do not depend on how many were asked for.
          const wide = embedder.termOverlap ? Math.min(1000, Math.max(50, k * 4)) : k;
          hits = rescore(embedder, query, await searchChunks(pool, collection, vector!, wide)).slice(0, k);
        } finally {
          await embedder.close?.();
        }
        const best = hits[0]?.score ?? 0;
        const floor = embedder.termOverlap ? WEAK_SCORE.lexical : WEAK_SCORE.semantic;
        const weak = hits.length > 0 && best < floor;
        if (g.json) return writeJson(io, { query, collection: collection.name, weak, results: hits });
        if (hits.length === 0) io.stdout('no results\n');
        for (const [i, h] of hits.entries()) io.stdout(formatHit(i, h));
        if (weak) {
          io.stderr(
            `note: the best score (${best.toFixed(3)}) is below ${floor}: nothing here looks like a match for this query\n`,
          );
        }
      });
    });
}

function rescore(embedder: Embedder, query: string, hits: SearchHit[]): SearchHit[] {
  const overlap = embedder.termOverlap;
  if (!overlap) return hits;
  return hits
    .map((h) => {
      // Match against what was embedded: the heading context plus the text.
      const context = (h.metadata as { embed_context?: string }).embed_context ?? '';
      return { ...h, score: Math.max(0, h.score) * overlap(query, `${context}\n${h.text}`) };
    })
    .sort((a, b) => b.score - a.score);
}

function formatHit(i: number, h: SearchHit): string {
  const m = h.metadata as { page_start?: number; page_end?: number; heading_path?: string[] };
  const page = m.page_start
    ? ` p.${m.page_start}${m.page_end && m.page_end !== m.page_start ? `-${m.page_end}` : ''}`
    : '';
  const heading = m.heading_path?.length ? ` § ${m.heading_path.join(' › ')}` : '';
  const snippet = h.text.replace(/\s+/g, ' ').slice(0, 200);
  return `${i + 1}. ${h.score.toFixed(3)} ${escapeControls(h.uri)}${page}${heading}\n   ${escapeControls(snippet)}\n`;
}
