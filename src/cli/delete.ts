// `sluice delete`: remove documents and their chunks from the index. Postgres only:
// it works (and fails fast) without Redis.
import type { Command } from 'commander';
import { escapeControls } from '../terminal-text.ts';
import { refsNotFound, resolveRefs, withPool } from './context.ts';
import { type CliIO, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('delete')
    .description('delete documents (by path or id) and their chunks from the index')
    .argument('<refs...>', 'document paths (as given to ingest, relative or absolute) or numeric ids')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--json', 'print as JSON on stdout')
    .action(async (refs: string[], opts: { collection?: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection: opts.collection });
      await withPool(config, async (pool) => {
        const { deleteDocuments, findDocuments } = await import('../loaders/documents.ts');
        const resolved = resolveRefs(refs, io.cwd);
        const docs = await findDocuments(pool, config.collection, resolved);
        const missing = refsNotFound(refs, resolved, docs);
        const n = await deleteDocuments(
          pool,
          docs.map((d) => d.id),
        );
        if (g.json) writeJson(io, { deleted: docs.map((d) => d.id), notFound: missing });
        else io.stderr(`${n} document(s) deleted\n`);
        if (missing.length > 0) {
          throw new ExitError(
            EXIT.usage,
            `error: not found in collection "${config.collection}": ${missing.map((m) => escapeControls(m)).join(', ')}`,
          );
        }
      });
    });
}
