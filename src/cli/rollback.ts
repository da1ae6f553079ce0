// `sluice rollback C`: return searches to the generation active before the last switch.
import type { Command } from 'commander';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('rollback')
    .description('make the generation that was active before the last switch active again (atomically)')
    .argument('<collection>', 'collection name')
    .option('--json', 'print as JSON on stdout')
    .action(async (collection: string, opts: { json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection });
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const { previousGeneration } = await import('../loaders/generation-switch.ts');
        const previous = await previousGeneration(rt.pool, config.collection);
        if (previous === undefined) {
          throw new ExitError(
            EXIT.usage,
            `error: collection "${collection}" has no earlier generation to return to (none was switched from, or it was retired)`,
          );
        }
        const { switchTo } = await import('../queue/generations.ts');
        const moved = await switchTo(rt, config.collection, previous, { requireReady: false });
        if (g.json) return writeJson(io, { collection: config.collection, ...moved });
        io.stderr(
          `"${config.collection}": searches now read generation ${moved.to} again (was ${moved.from}); ` +
            `\`sluice switch ${config.collection} --generation ${moved.from}\` goes forward again.\n`,
        );
      });
    });
}
