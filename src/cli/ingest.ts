// `sluice ingest <inputs...>`: queue files for the workers; with --wait, show
// progress until every document is done or failed, then a summary.
import type { Command } from 'commander';
import { resolveInputs } from '../sources/files.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig } from './io.ts';
import { barAware } from './progress.ts';
import { reportIngest, waitWithProgress } from './report.ts';

export interface IngestFlags extends GlobalOpts {
  collection?: string;
  force?: boolean;
  wait?: boolean;
  timeout?: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('ingest')
    .description('queue files, directories or globs for ingestion (workers do the work)')
    .argument('<inputs...>', 'files, directories (recursive) or glob patterns')
    .option('--collection <name>', 'collection to ingest into (default: SLUICE_COLLECTION or "default")')
    .option('--force', 're-process documents even when their content is unchanged')
    .option('--wait', 'wait until every document is done or failed, showing progress')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 2)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (inputs: string[], opts: IngestFlags, cmd: Command) => {
      io = barAware(io); // log lines print above the progress bar, not through it
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection: opts.collection });
      const log = cliLogger(io, config, g);
      const files = await resolveInputs(inputs, io.cwd).catch((err: Error) => {
        throw new ExitError(EXIT.usage, `error: ${err.message}`);
      });
      const code = await withRuntime(config, log, 'producer', async (rt) => {
        const { ingestFiles } = await import('../queue/producer.ts');
        const summary = await ingestFiles(rt, files, {
          collection: config.collection,
          force: opts.force === true,
        }).catch((err: Error & { code?: string }) => {
          if (err.code === 'SOURCE_MISSING') throw new ExitError(EXIT.usage, `error: ${err.message}`);
          throw err;
        });
        if (!g.json) {
          io.stderr(
            `${summary.files} file(s): ${summary.queued} queued, ${summary.unchanged} unchanged, ` +
              `${summary.inFlight} already in progress, ${summary.refused} refused\n`,
          );
        }
        const waited = opts.wait ? await waitWithProgress(rt, io, summary.waitIds, opts.timeout) : undefined;
        return reportIngest(rt, io, summary, waited, g);
      });
      if (code !== EXIT.ok) throw new ExitError(code);
    });
}
