// `sluice delete`: remove documents and their chunks from the index.
import type { Command } from 'commander';
import { deleteDocuments, findDocuments } from '../loaders/documents.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('delete')
    .description('delete documents (by uri or id) and their chunks from the index')
    .argument('<refs...>', 'document uris (absolute paths) or numeric ids')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--json', 'print as JSON on stdout')
    .action(async (refs: string[], opts: { collection?: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection: opts.collection });
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const docs = await findDocuments(rt.pool, config.collection, refs);
        const n = await deleteDocuments(
          rt.pool,
          docs.map((d) => d.id),
        );
        if (g.json) writeJson(io, { deleted: docs.map((d) => d.id) });
        else io.stderr(`${n} document(s) deleted\n`);
        if (docs.length < refs.length)
          throw new ExitError(EXIT.usage, 'error: some documents were not found');
      });
    });
}
