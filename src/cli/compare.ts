// `sluice compare C`: sample queries on the active generation and another one
// (a build, or the rollback target), with top-k overlap and rank changes.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { escapeControls } from '../terminal-text.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { optionalWholeNumber, wholeNumber } from './numbers.ts';

const MAX_QUERIES = 1000;
const MAX_QUERY_FILE_BYTES = 1024 * 1024;

/** One query per non-empty line; the file is bounded in size and count. */
async function readQueries(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new ExitError(EXIT.usage, `error: cannot read --queries file: ${err.message}`);
  });
  if (Buffer.byteLength(text) > MAX_QUERY_FILE_BYTES)
    throw new ExitError(EXIT.usage, 'error: --queries file is over 1 MB: give at most 1,000 queries');
  const queries = text
    .split('\n')
    .map((l) => l.trim().slice(0, 2000))
    .filter(Boolean);
  if (queries.length === 0)
    throw new ExitError(EXIT.usage, 'error: --queries file has no queries (one per line)');
  return queries.slice(0, MAX_QUERIES);
}

export function register(program: Command, io: CliIO): void {
  program
    .command('compare')
    .description(
      'run sample queries on the active and another generation; report top-k overlap and rank changes',
    )
    .argument('<collection>', 'collection name')
    .option('--queries <file>', 'queries, one per line (default: drawn from chunk texts)')
    .option('-k <n>', 'results per query', '10')
    .option('--generation <n>', 'generation to compare with (default: the newest one not active)')
    .option('--samples <n>', 'queries to draw when --queries is not given', '10')
    .option('--json', 'print as JSON on stdout')
    .action(
      async (
        collection: string,
        opts: { queries?: string; k: string; generation?: string; samples: string; json?: boolean },
        cmd: Command,
      ) => {
        const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
        const k = wholeNumber(opts.k, '-k', 1, 1000);
        const samples = wholeNumber(opts.samples, '--samples', 1, MAX_QUERIES);
        const generation = optionalWholeNumber(opts.generation, '--generation', 1, Number.MAX_SAFE_INTEGER);
        const config = readConfig(io, g, { collection });
        const queries = opts.queries ? await readQueries(opts.queries) : undefined;
        await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
          const { compareGenerations } = await import('../queue/compare.ts');
          const c = await compareGenerations(rt, config.collection, {
            k,
            samples,
            ...(queries ? { queries } : {}),
            ...(generation ? { generation } : {}),
          });
          if (g.json) return writeJson(io, c);
          const pct = (x: number) => `${Math.round(x * 100)}%`;
          const out = [
            `"${c.collection}": generation ${c.from} (active) vs ${c.to}, ${c.queries.length} queries, top ${c.k}`,
            `  mean overlap: ${pct(c.meanChunkOverlap)} of chunks, ${pct(c.meanDocumentOverlap)} of documents`,
          ];
          for (const q of c.queries) {
            const moved = q.ranks.filter((r) => r.from !== r.to);
            out.push(
              `  ${pct(q.chunkOverlap).padStart(4)} chunks ${pct(q.documentOverlap).padStart(4)} docs  ${escapeControls(q.query.slice(0, 60))}`,
            );
            for (const r of moved.slice(0, 5))
              out.push(`        ${escapeControls(r.uri)}: ${r.from ?? '-'} → ${r.to ?? '-'}`);
          }
          io.stdout(`${out.join('\n')}\n`);
        });
      },
    );
}
