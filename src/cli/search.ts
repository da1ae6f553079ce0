// `sluice search "<query>"`: embed the query and list the nearest chunks.
import type { Command } from 'commander';
import { getCollection, searchChunks } from '../loaders/pgvector.ts';
import { displayName } from '../log.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

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
      const k = Number(opts.k);
      if (!Number.isInteger(k) || k < 1 || k > 1000)
        throw new ExitError(EXIT.usage, 'error: -k must be a whole number from 1 to 1000');
      const config = readConfig(io, g, { collection: opts.collection });
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const collection = await getCollection(rt.pool, config.collection);
        if (!collection)
          throw new ExitError(
            EXIT.usage,
            `error: collection "${config.collection}" does not exist yet: ingest something first`,
          );
        // The query is embedded as the active generation was (its model and width), not as configured.
        const { pipeline, generation } = await rt.pipelineFor({ collection: collection.name });
        const [vector] = await pipeline.embedder.embed([query]);
        const hits = await searchChunks(rt.pool, generation, vector!, k);
        if (g.json) return writeJson(io, { query, collection: collection.name, results: hits });
        if (hits.length === 0) io.stdout('no results\n');
        for (const [i, h] of hits.entries()) {
          const m = h.metadata as { page_start?: number; page_end?: number; heading_path?: string[] };
          const page = m.page_start
            ? ` p.${m.page_start}${m.page_end && m.page_end !== m.page_start ? `-${m.page_end}` : ''}`
            : '';
          const heading = m.heading_path?.length ? ` § ${m.heading_path.join(' › ')}` : '';
          const snippet = h.text.replace(/\s+/g, ' ').slice(0, 200);
          io.stdout(
            `${i + 1}. ${h.score.toFixed(3)} ${displayName(h.uri)}${page}${heading}\n   ${displayName(snippet)}\n`,
          );
        }
      });
    });
}
