// `sluice retry`: re-queue failed documents (all, or named by uri or id).
import type { Command } from 'commander';
import { failedDocuments, findDocuments } from '../loaders/documents.ts';
import { retryDocuments } from '../queue/retry.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('retry')
    .description('re-queue failed documents: all with --failed, or the given uris/ids')
    .argument('[refs...]', 'document uris (absolute paths) or numeric ids')
    .option('--failed', 'every failed document in the collection')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--json', 'print as JSON on stdout')
    .action(
      async (
        refs: string[],
        opts: { failed?: boolean; collection?: string; json?: boolean },
        cmd: Command,
      ) => {
        const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
        if (!opts.failed && refs.length === 0)
          throw new ExitError(EXIT.usage, 'error: name documents to retry, or pass --failed');
        const config = readConfig(io, g, { collection: opts.collection });
        await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
          const docs = opts.failed
            ? await failedDocuments(rt.pool, config.collection)
            : await findDocuments(rt.pool, config.collection, refs);
          // Documents refused before hashing (too large) are left out: re-run ingest instead.
          const { retried } = await retryDocuments(rt, docs);
          if (g.json) writeJson(io, { retried });
          else io.stderr(`${retried.length} document(s) re-queued\n`);
          if (!opts.failed && docs.length < refs.length)
            throw new ExitError(EXIT.usage, 'error: some documents were not found');
        });
      },
    );
}
