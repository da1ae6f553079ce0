// `sluice worker`: run stage workers until SIGTERM/SIGINT, then finish or hand
// back the jobs in hand and exit cleanly.
import type { Command } from 'commander';
import { parseStages, STAGES } from '../queue/jobs.ts';
import { withRuntime } from './context.ts';
import { startDashboardFor } from './dashboard.ts';
import { type CliIO, cliLogger, type GlobalOpts, readConfig } from './io.ts';
import { modesLine, modesOf } from './modes.ts';
import { concurrency, parsePort } from './numbers.ts';
import { untilSignal } from './signals.ts';

type WorkerOpts = { stages: string; concurrency?: string; metricsPort?: string; metricsHost: string };

export function register(program: Command, io: CliIO): void {
  program
    .command('worker')
    .description('process queued documents (all four stages by default) until stopped')
    .option('--stages <list>', `comma-separated stages to run (${STAGES.join(',')})`, STAGES.join(','))
    .option('--concurrency <n>', 'jobs per stage at once (default: SLUICE_CONCURRENCY or 4)')
    .option('--metrics-port <n>', 'serve Prometheus /metrics (and /healthz, /readyz) on this port')
    .option('--metrics-host <host>', 'address for --metrics-port (non-loopback needs a token)', '127.0.0.1')
    .action(async (opts: WorkerOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const config = readConfig(io, g, { concurrency: concurrency(opts.concurrency) });
      const stages = parseStages(opts.stages);
      const port = opts.metricsPort === undefined ? undefined : parsePort(opts.metricsPort, '--metrics-port');
      const log = cliLogger(io, config, g);
      await withRuntime(config, log, 'worker', async (rt) => {
        const { startWorkers } = await import('../queue/supervisor.ts');
        const metrics =
          port === undefined
            ? undefined
            : await startDashboardFor(rt, log, { host: opts.metricsHost, port, metricsOnly: true });
        const workers = await startWorkers(rt, stages, { concurrency: config.concurrency }).catch(
          async (err: unknown) => {
            await metrics?.close();
            throw err;
          },
        );
        log.info(
          `worker started: stages ${stages.join(',')}, concurrency ${config.concurrency}, pid ${process.pid}; ` +
            modesLine(modesOf(config)),
        );
        await untilSignal(log, 'finishing jobs in hand');
        await workers.close();
        await metrics?.close();
        log.info('worker stopped');
      });
    });
}
