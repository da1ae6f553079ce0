// `sluice retry`: re-queue failed documents (all, or named by path or id). Only
// failed (and stale) documents are re-queued; a deleted one stays deleted (exit 2:
// only `ingest` brings it back). Redis is touched only when there is something to
// queue. With --wait it shows progress and a summary like `ingest --wait`.
import type { Command } from 'commander';
import { canChange } from '../loaders/document-state.ts';
import type { DocumentRow } from '../loaders/documents.ts';
import { escapeControls } from '../terminal-text.ts';
import { refsNotFound, resolveRefs, withPool, withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { timeoutSeconds } from './numbers.ts';
import { barAware } from './progress.ts';

interface RetryFlags {
  failed?: boolean;
  collection?: string;
  json?: boolean;
  wait?: boolean;
  timeout?: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('retry')
    .description(
      're-queue failed documents: all with --failed, or the given paths/ids (a worker processes them)',
    )
    .argument('[refs...]', 'document paths (as given to ingest, relative or absolute) or numeric ids')
    .option('--failed', 'every failed document in the collection')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--wait', 'wait until the re-queued documents are done or failed, showing progress')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 2)')
    .option('--json', 'print as JSON on stdout')
    .action(async (refs: string[], opts: RetryFlags, cmd: Command) => {
      const out = barAware(io);
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const timeout = timeoutSeconds(opts.timeout);
      if (!opts.failed && refs.length === 0)
        throw new ExitError(EXIT.usage, 'error: name documents to retry, or pass --failed');
      const config = readConfig(out, g, { collection: opts.collection });
      const resolved = resolveRefs(refs, out.cwd);
      const { failedDocuments, findDocuments } = await import('../loaders/documents.ts');
      const found = await withPool(config, (pool) =>
        opts.failed
          ? failedDocuments(pool, config.collection)
          : findDocuments(pool, config.collection, resolved),
      );
      const missing = opts.failed ? [] : refsNotFound(refs, resolved, found);
      const deleted = found.filter((d) => d.status === 'deleted');
      const deletedIds = deleted.map((d) => d.id);
      const notFailed = found.filter((d) => !canChange('retry', d.status) && d.status !== 'deleted');
      // Refused before hashing (too large): only a new `ingest` can pick up a smaller file.
      const todo = found.filter((d): d is DocumentRow =>
        Boolean(canChange('retry', d.status) && d.content_hash),
      );
      for (const d of notFailed) {
        out.stderr(`#${d.id} ${escapeControls(d.uri)} is ${d.status}, not failed: nothing to retry\n`);
      }
      const refusals = [
        ...deleted.map(
          (d) =>
            `error: #${d.id} ${escapeControls(d.uri)} is deleted: retry only re-queues failed documents; \`sluice ingest\` it to index it again`,
        ),
        ...(missing.length > 0
          ? [
              `error: not found in collection "${config.collection}": ${missing.map((m) => escapeControls(m)).join(', ')}`,
            ]
          : []),
      ];
      let code: number = EXIT.ok;
      if (todo.length > 0) {
        code = await withRuntime(config, cliLogger(out, config, g), 'producer', async (rt) => {
          const { retryDocuments } = await import('../queue/retry.ts');
          const { retried } = await retryDocuments(rt, todo);
          if (!opts.wait) {
            if (g.json) writeJson(out, { retried, notFound: missing, deleted: deletedIds });
            else out.stderr(`${retried.length} document(s) re-queued\n`);
            if ((await rt.queues.extract.getWorkersCount().catch(() => 1)) === 0) {
              out.stderr('no workers are running: start `sluice worker` to process them (or pass --wait)\n');
            }
            return EXIT.ok;
          }
          out.stderr(`${retried.length} document(s) re-queued\n`);
          const summary = {
            files: retried.length,
            queued: retried.length,
            unchanged: 0,
            inFlight: 0,
            refused: 0,
            waitIds: retried,
            ids: retried,
            refusedIds: [],
          };
          const { reportIngest, waitWithProgress } = await import('./report.ts');
          const waited = await waitWithProgress(rt, out, retried, timeout);
          return reportIngest(rt, out, summary, waited, g);
        });
      } else if (g.json) writeJson(out, { retried: [], notFound: missing, deleted: deletedIds });
      else if (refusals.length === 0) out.stderr('0 document(s) re-queued\n');
      if (refusals.length > 0) throw new ExitError(EXIT.usage, refusals.join('\n'));
      if (code !== EXIT.ok) throw new ExitError(code);
    });
}
