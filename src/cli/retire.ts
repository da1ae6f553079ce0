// `sluice retire C N`: drop a generation that is not active (its chunks and
// index); cancels a build in progress.
import type { Command } from 'commander';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { wholeNumber } from './numbers.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('retire')
    .description("drop a generation's chunks and index (not the active one); cancels a build")
    .argument('<collection>', 'collection name')
    .argument('<generation>', 'generation number (see `sluice generations`)')
    .option('--json', 'print as JSON on stdout')
    .action(async (collection: string, generation: string, opts: { json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const n = wholeNumber(generation, '<generation>', 1, Number.MAX_SAFE_INTEGER);
      const config = readConfig(io, g, { collection });
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const { dropGenerationIndex, retireGeneration } = await import('../loaders/generation-switch.ts');
        const retired = await retireGeneration(rt.pool, config.collection, n);
        await dropGenerationIndex(rt.pool, retired.indexName);
        if (g.json)
          return writeJson(io, {
            collection: config.collection,
            generation: n,
            chunksDropped: retired.chunks,
          });
        io.stderr(`"${config.collection}": generation ${n} retired, ${retired.chunks} chunk(s) dropped\n`);
      });
    });
}
