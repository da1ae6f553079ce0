// `sluice ingest <inputs...>`: queue files for the workers; with --wait, show
// progress until every document is done or failed, then a summary.
import type { Command } from 'commander';
import { resolveInputs } from '../sources/files.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig } from './io.ts';
import { timeoutSeconds } from './numbers.ts';
import { barAware } from './progress.ts';

const INPUT_CODES = new Set(['SOURCE_MISSING', 'PERMISSION_DENIED', 'NOT_A_FILE']);

export interface IngestFlags extends GlobalOpts {
  collection?: string;
  force?: boolean;
  wait?: boolean;
  timeout?: string;
  acceptLowQuality?: boolean;
  dryRun?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('ingest')
    .description('queue files, directories or globs for ingestion (workers do the work)')
    .argument('<inputs...>', 'files, directories (recursive) or glob patterns')
    .option('--collection <name>', 'collection to ingest into (default: SLUICE_COLLECTION or "default")')
    .option('--force', 're-process documents even when their content is unchanged')
    .option(
      '--accept-low-quality',
      'index text the quality gate judges garbage instead of failing it LOW_QUALITY',
    )
    .option('--wait', 'wait until every document is done or failed, showing progress')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 2)')
    .option('--dry-run', 'read, extract and chunk; report documents, chunks, tokens and price; embed nothing')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (inputs: string[], opts: IngestFlags, cmd: Command) => {
      io = barAware(io); // log lines print above the progress bar, not through it
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const timeout = timeoutSeconds(opts.timeout);
      const config = readConfig(io, g, {
        collection: opts.collection,
        acceptLowQuality: opts.acceptLowQuality,
      });
      const log = cliLogger(io, config, g);
      const buckets = inputs.filter((i) => i.startsWith('s3://'));
      const paths = inputs.filter((i) => !i.startsWith('s3://'));
      // A file that cannot be queued (a name that is not UTF-8) is named and skipped; the rest go on.
      const skipped: string[] = [];
      const files = await resolveInputs(paths, io.cwd, (m) => {
        skipped.push(m);
        io.stderr(`warning: ${m}\n`);
      }).catch((err: Error) => {
        throw new ExitError(EXIT.usage, `error: ${err.message}`);
      });
      // Objects are listed (not downloaded) up front: a missing bucket or denied access stops here.
      const objects =
        buckets.length > 0
          ? await (await import('../sources/s3-ingest.ts')).listS3Inputs(config, buckets)
          : [];
      const code = await withRuntime(config, log, 'producer', async (rt) => {
        if (opts.dryRun) {
          if (objects.length > 0) {
            throw new ExitError(EXIT.usage, 'error: --dry-run reads files only; leave out the s3:// inputs');
          }
          const { dryRunIngest } = await import('./dry-run.ts');
          return dryRunIngest(
            rt,
            io,
            files,
            { collection: config.collection, force: opts.force === true },
            g,
          );
        }
        const { ingestFiles, ingestHashed, mergeSummaries } = await import('../queue/producer.ts');
        const { reportIngest, waitWithProgress } = await import('./report.ts');
        const ingestOpts = {
          collection: config.collection,
          force: opts.force === true,
          acceptLowQuality: config.acceptLowQuality,
        };
        const summary = await Promise.all([
          ingestFiles(rt, files, ingestOpts),
          ingestHashed(rt, objects, ingestOpts),
        ])
          .then(mergeSummaries)
          .catch((err: Error & { code?: string }) => {
            // A file that went away, became unreadable or stopped being a regular file since it was listed.
            if (INPUT_CODES.has(err.code ?? '')) throw new ExitError(EXIT.usage, `error: ${err.message}`);
            throw err;
          });
        if (!g.json) {
          io.stderr(
            `${summary.files} file(s): ${summary.queued} queued, ${summary.unchanged} unchanged, ` +
              `${summary.inFlight} already in progress, ${summary.refused} refused\n`,
          );
        }
        const waited = opts.wait ? await waitWithProgress(rt, io, summary.waitIds, timeout) : undefined;
        return reportIngest(rt, io, summary, waited, g);
      });
      // Skipped files count as failed documents of this run (exit 1), however the rest went.
      if (code === EXIT.ok && skipped.length > 0) throw new ExitError(EXIT.someFailed);
      if (code !== EXIT.ok) throw new ExitError(code);
    });
}
