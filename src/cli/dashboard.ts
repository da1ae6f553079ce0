// `sluice dashboard`: serve the pipeline overview, Bull Board, /metrics and the
// probes until SIGTERM/SIGINT. Also the helpers `run --dashboard` (and `watch`)
// and `worker --metrics-port` use to start the same server beside their work.
import type { Command } from 'commander';
import type { Logger } from '../log.ts';
import type { Runtime } from '../queue/runtime.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { parsePort } from './numbers.ts';
import { untilSignal } from './signals.ts';

export const DEFAULT_PORT = 3000;

export function register(program: Command, io: CliIO): void {
  program
    .command('dashboard')
    .description('serve the pipeline overview, Bull Board (/queues), /metrics, /healthz and /readyz')
    .option(
      '--host <host>',
      'address to listen on; anything but loopback needs SLUICE_DASHBOARD_TOKEN',
      '127.0.0.1',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', String(DEFAULT_PORT))
    .option('--json', 'print {"url": ...} on stdout once listening')
    .action(async (opts: { host: string; port: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const port = parsePort(opts.port, '--port');
      const config = readConfig(io, g);
      const { bindProblem } = await import('../dashboard/server.ts');
      // Refused before connecting to anything: a misconfigured bind fails fast.
      const problem = bindProblem(opts.host, config.dashboardToken);
      if (problem) throw new ExitError(EXIT.usage, `error: ${problem}`);
      const log = cliLogger(io, config, g);
      await withRuntime(config, log, 'worker', async (rt) => {
        const board = await startDashboardFor(rt, log, { host: opts.host, port });
        if (g.json) writeJson(io, { url: board.url });
        await untilSignal(log, 'stopping the dashboard');
        await board.close();
      });
    });
}

/** Starts the dashboard (or, with metricsOnly, just /metrics and the probes) on a runtime already open. */
export async function startDashboardFor(
  rt: Runtime,
  log: Logger,
  opts: { host: string; port: number; metricsOnly?: boolean },
): Promise<{ url: string; close(): Promise<void> }> {
  const { startDashboard } = await import('../dashboard/server.ts');
  // The upload API (POST /v1/documents) rides on the dashboard, behind its token and CSRF checks.
  const extraRoutes = opts.metricsOnly
    ? []
    : [
        {
          path: '/',
          app: (await import('../sources/upload.ts')).createUploadRoutes({
            rt,
            cwd: process.cwd(),
            token: undefined,
          }),
        },
      ];
  const board = await startDashboard({ rt, log }, { ...opts, extraRoutes });
  log.info(
    opts.metricsOnly
      ? `metrics at ${board.url}metrics`
      : `dashboard at ${board.url} (Bull Board at ${board.url}queues, metrics at ${board.url}metrics)`,
  );
  return board;
}
