// `sluice run <inputs...>`: ingest with workers in this process, wait, summarise.
// The quickest way to index a folder on one machine. The first line names the
// database and queue modes. Ctrl-C stops waiting, lets the jobs in hand finish,
// closes the workers and connections, summarises and exits 2; the same command
// again resumes (checkpoints make completed stages skip). A second Ctrl-C exits at once.
import type { Command } from 'commander';
import { STAGES } from '../queue/jobs.ts';
import { resolveInputs } from '../sources/files.ts';
import { withRuntime } from './context.ts';
import { DEFAULT_PORT, startDashboardFor } from './dashboard.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig } from './io.ts';
import { modesLine, modesOf } from './modes.ts';
import { concurrency, parsePort } from './numbers.ts';
import { barAware } from './progress.ts';
import { interruptOnSignal } from './signals.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('run')
    .description('ingest inputs with workers in this process, show progress, wait and summarise')
    .argument('<inputs...>', 'files, directories (recursive) or glob patterns')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--force', 're-process documents even when their content is unchanged')
    .option('--concurrency <n>', 'jobs per stage at once')
    .option(
      '--accept-low-quality',
      'index text the quality gate judges garbage instead of failing it LOW_QUALITY',
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option(
      '--dashboard [port]',
      `serve the dashboard on 127.0.0.1 while this runs (default port ${DEFAULT_PORT})`,
    )
    .action(
      async (
        inputs: string[],
        opts: {
          collection?: string;
          force?: boolean;
          concurrency?: string;
          json?: boolean;
          acceptLowQuality?: boolean;
          dashboard?: string | boolean;
        },
        cmd: Command,
      ) => {
        io = barAware(io); // worker log lines print above the progress bar, not through it
        const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
        const config = readConfig(io, g, {
          collection: opts.collection,
          concurrency: concurrency(opts.concurrency),
          acceptLowQuality: opts.acceptLowQuality,
        });
        const log = cliLogger(io, config, g);
        const modes = modesOf(config);
        io.stderr(`${modesLine(modes)}\n`);
        const port =
          typeof opts.dashboard === 'string' ? parsePort(opts.dashboard, '--dashboard') : DEFAULT_PORT;
        // A file that cannot be queued (a name that is not UTF-8) is named and skipped; the rest go on.
        const skipped: string[] = [];
        const files = await resolveInputs(inputs, io.cwd, (m) => {
          skipped.push(m);
          io.stderr(`warning: ${m}\n`);
        }).catch((err: Error) => {
          throw new ExitError(EXIT.usage, `error: ${err.message}`);
        });
        const interrupt = interruptOnSignal(
          (signal) =>
            io.stderr(
              `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping; finishing the jobs in hand ` +
                '(Ctrl-C again to stop at once)\n',
            ),
          () => {
            io.stderr('stopped at once: jobs in hand are taken over when sluice runs again\n');
            process.exit(EXIT.usage);
          },
        );
        const code = await withRuntime(
          config,
          log,
          'worker',
          async (rt) => {
            const { startWorkers } = await import('../queue/supervisor.ts');
            const { ingestFiles } = await import('../queue/producer.ts');
            const { queueDepths } = await import('../queue/queues.ts');
            const { reportIngest, waitWithProgress } = await import('./report.ts');
            const earlier = Object.values(await queueDepths(rt.queues)).reduce(
              (n, d) => n + d.waiting + d.active + d.delayed,
              0,
            );
            const workers = await startWorkers(rt, [...STAGES], { concurrency: config.concurrency });
            let board: { close(): Promise<void> } | undefined;
            let summary: Awaited<ReturnType<typeof ingestFiles>>;
            let waited: Awaited<ReturnType<typeof waitWithProgress>>;
            try {
              if (earlier > 0) {
                io.stderr(
                  `note: ${earlier} job(s) from earlier ingests are queued too; these workers will process them, ` +
                    'but only the documents of this run are waited for and reported\n',
                );
              }
              if (opts.dashboard) board = await startDashboardFor(rt, log, { host: '127.0.0.1', port });
              summary = await ingestFiles(rt, files, {
                collection: config.collection,
                force: opts.force === true,
                acceptLowQuality: config.acceptLowQuality,
              });
              waited = await waitWithProgress(rt, io, summary.waitIds, undefined, interrupt.signal);
            } finally {
              // Jobs in hand finish before the workers close; queued ones wait for the next run.
              await board?.close();
              await workers.close();
            }
            return await reportIngest(rt, io, summary, waited, g, { modes });
          },
          // withRuntime migrates a fresh embedded database first (the Quickstart is one command);
          // a server database is migrated by `sluice migrate` (README "Going to production").
        ).finally(() => interrupt.dispose());
        // Skipped files count as failed documents of this run (exit 1), however the rest went.
        if (code === EXIT.ok && skipped.length > 0) throw new ExitError(EXIT.someFailed);
        if (code !== EXIT.ok) throw new ExitError(code);
      },
    );
}
