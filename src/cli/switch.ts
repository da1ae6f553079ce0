// `sluice switch C`: make a ready generation the one searches read, in one
// transaction, its HNSW index built first. The former one is kept for rollback.
import type { Command } from 'commander';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { optionalWholeNumber } from './numbers.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('switch')
    .description('make the newest generation of a collection (once ready) the one searches read, atomically')
    .argument('<collection>', 'collection name')
    .option('--generation <n>', 'switch to this generation (default: the newest one after the active one)')
    .option('--force', 'switch even if the generation is still building')
    .option('--json', 'print as JSON on stdout')
    .action(
      async (
        collection: string,
        opts: { generation?: string; force?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
        const wanted = optionalWholeNumber(opts.generation, '--generation', 1, Number.MAX_SAFE_INTEGER);
        const config = readConfig(io, g, { collection });
        await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
          const { listGenerations } = await import('../loaders/generations.ts');
          const gens = await listGenerations(rt.pool, config.collection);
          if (gens.length === 0)
            throw new ExitError(EXIT.usage, `error: collection "${collection}" does not exist`);
          const active = gens.find((x) => x.active)?.generation ?? 0;
          const target =
            wanted ?? gens.find((x) => x.generation > active && x.state !== 'retired')?.generation;
          if (target === undefined) {
            throw new ExitError(
              EXIT.usage,
              `error: collection "${collection}" has no new generation to switch to: build one with \`sluice reindex --collection ${collection}\``,
            );
          }
          const { switchTo } = await import('../queue/generations.ts');
          const moved = await switchTo(rt, config.collection, target, { requireReady: opts.force !== true });
          const failed = gens.find((x) => x.generation === target)?.documents.failed ?? 0;
          if (g.json)
            return writeJson(io, { collection: config.collection, ...moved, failedDocuments: failed });
          io.stderr(
            `"${config.collection}": searches now read generation ${moved.to} (was ${moved.from})` +
              `${failed ? `; ${failed} document(s) failed in it` : ''}. ` +
              `Undo with \`sluice rollback ${config.collection}\`.\n`,
          );
        });
      },
    );
}
