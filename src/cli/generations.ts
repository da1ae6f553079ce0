// `sluice generations`: each collection generation's settings, state, progress and cost.
import type { Command } from 'commander';
import { withRuntime } from './context.ts';
import { generationJson, generationLine } from './generation-view.ts';
import { type CliIO, cliLogger, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('generations')
    .description('list collection generations: settings, state, documents and chunks done, cost so far')
    .option('--collection <name>', 'only this collection (default: all)')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: { collection?: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection: opts.collection }); // validates the name
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const { listGenerations } = await import('../loaders/generations.ts');
        const rows = (await listGenerations(rt.pool, opts.collection)).map((r) => generationJson(r, config));
        if (g.json) return writeJson(io, { generations: rows });
        if (rows.length === 0) io.stdout('no collections yet\n');
        let last = '';
        for (const r of rows) {
          if (r.collection !== last) io.stdout(`${r.collection}:\n`);
          last = r.collection;
          io.stdout(`${generationLine(r)}\n`);
        }
      });
    });
}
