// `sluice serve`: sluice's HTTP API (document upload and status) until
// SIGTERM/SIGINT. Beyond loopback it refuses to start without SLUICE_DASHBOARD_TOKEN.
import type { Command } from 'commander';
import { STAGES } from '../queue/jobs.ts';
import { isLoopback } from '../tokens.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig } from './io.ts';
import { concurrency, parsePort } from './numbers.ts';
import { untilSignal } from './signals.ts';

interface ServeFlags extends GlobalOpts {
  host: string;
  port: string;
  workers?: boolean;
  concurrency?: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('serve the HTTP API: POST /v1/documents (upload), GET /v1/documents/:id (status)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '3000')
    .option('--workers', 'also run the stage workers in this process')
    .option('--concurrency <n>', 'with --workers: jobs per stage at once')
    .action(async (opts: ServeFlags, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { concurrency: concurrency(opts.concurrency) });
      const port = parsePort(opts.port, '--port');
      if (!config.dashboardToken && !isLoopback(opts.host)) {
        throw new ExitError(
          EXIT.usage,
          `error: refusing to serve on ${opts.host} without a token: set SLUICE_DASHBOARD_TOKEN (or use --host 127.0.0.1)`,
        );
      }
      const log = cliLogger(io, config, g);
      await withRuntime(config, log, 'worker', async (rt) => {
        const { Hono } = await import('hono');
        const { serve } = await import('@hono/node-server');
        const { createUploadRoutes } = await import('../sources/upload.ts');
        const { startWorkers } = await import('../queue/supervisor.ts');
        const workers = opts.workers
          ? await startWorkers(rt, [...STAGES], { concurrency: config.concurrency })
          : undefined;
        const app = new Hono();
        app.get('/healthz', (c) => c.json({ ok: true }));
        app.route('/', createUploadRoutes({ rt, cwd: io.cwd, token: config.dashboardToken }));
        const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
          const s = serve({ fetch: app.fetch, hostname: opts.host, port }, (info) => {
            log.info(
              `serving on http://${opts.host}:${info.port}${config.dashboardToken ? ' (token required)' : ''}`,
            );
            resolve(s);
          });
          s.once('error', (err) =>
            reject(new ExitError(EXIT.usage, `error: cannot listen on ${opts.host}:${port}: ${err.message}`)),
          );
        });
        await untilSignal(log, 'stopping the API server');
        await new Promise((r) => server.close(() => r(undefined)));
        await workers?.close();
      });
    });
}
