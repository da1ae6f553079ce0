// `sluice watch <dir|s3://bucket/prefix>...`: an initial scan, then live changes
// and deletions until SIGTERM/SIGINT; stage workers run in this process unless
// --no-workers. `--once` syncs each source once and exits (cron, scripts).
import type { Command } from 'commander';
import { STAGES } from '../queue/jobs.ts';
import { withRuntime } from './context.ts';
import { DEFAULT_PORT, startDashboardFor } from './dashboard.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { concurrency, parsePort } from './numbers.ts';
import { untilSignal } from './signals.ts';

interface WatchFlags extends GlobalOpts {
  collection?: string;
  workers?: boolean;
  concurrency?: string;
  once?: boolean;
  dashboard?: string | boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('watch')
    .description('keep a collection in step with folders or S3 prefixes: new, changed and deleted files')
    .argument('<sources...>', 'folders and/or s3://bucket/prefix URIs')
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--no-workers', 'only queue documents; `sluice worker` processes do the work')
    .option('--concurrency <n>', 'jobs per stage at once for in-process workers')
    .option('--once', 'sync each source once (wait for its documents with workers), then exit')
    .option('--json', 'with --once: print what was synced as JSON on stdout')
    .option(
      '--dashboard [port]',
      `serve the dashboard on 127.0.0.1 while watching (default port ${DEFAULT_PORT})`,
    )
    .action(async (inputs: string[], opts: WatchFlags, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, {
        collection: opts.collection,
        concurrency: concurrency(opts.concurrency),
      });
      const log = cliLogger(io, config, g);
      const port =
        typeof opts.dashboard === 'string' ? parsePort(opts.dashboard, '--dashboard') : DEFAULT_PORT;
      const { parseSpec, preflight, startWatching } = await import('../sources/watch.ts');
      const specs = inputs.map((i) => parseSpec(i, io.cwd));
      for (const spec of specs) await preflight(spec, config);
      const code = await withRuntime(config, log, 'worker', async (rt) => {
        const { startWorkers } = await import('../queue/supervisor.ts');
        const workers =
          opts.workers === false
            ? undefined
            : await startWorkers(rt, [...STAGES], { concurrency: config.concurrency });
        const handle = await startWatching(rt, specs, { collection: config.collection });
        let board: { close(): Promise<void> } | undefined;
        try {
          if (opts.dashboard) board = await startDashboardFor(rt, log, { host: '127.0.0.1', port });
          if (opts.once) return await syncOnce(rt, handle, specs, io, g, workers !== undefined);
          log.info(`watch started: ${specs.map((s) => s.uri).join(', ')}${workers ? ' (with workers)' : ''}`);
          await untilSignal(log, 'stopping the watch');
          return EXIT.ok;
        } finally {
          await board?.close();
          await handle.close();
          await workers?.close();
        }
      });
      if (code !== EXIT.ok) throw new ExitError(code);
    });
}

async function syncOnce(
  rt: import('../queue/runtime.ts').Runtime,
  handle: import('../sources/watch.ts').WatchHandle,
  specs: import('../sources/watch.ts').WatchSpec[],
  io: CliIO,
  g: GlobalOpts,
  waitDocs: boolean,
): Promise<number> {
  const taken = specs.filter((s) => !handle.active.has(s.uri));
  if (taken.length > 0) {
    throw new ExitError(
      EXIT.usage,
      `error: ${taken.map((s) => s.uri).join(', ')}: another \`sluice watch\` holds it (see \`sluice sources\`); stop it or let it sync`,
    );
  }
  await handle.allActive();
  const watchers = [...handle.active.entries()];
  for (const [, w] of watchers) await w.idle();
  const { sourceSummaries } = await import('../loaders/sources.ts');
  const { sourceDocumentIds } = await import('../loaders/source-objects.ts');
  const summaries = (await sourceSummaries(rt.pool)).filter((s) => handle.active.has(s.uri));
  const failed = summaries.filter((s) => s.last_error);
  if (waitDocs) {
    const ids = await sourceDocumentIds(
      rt.pool,
      summaries.map((s) => s.id),
    );
    const { waitForDocuments } = await import('../queue/producer.ts');
    await waitForDocuments(rt, ids, { intervalMs: 200 });
  }
  const report = watchers.map(([uri, w]) => ({ source: uri, ...w.stats }));
  if (g.json) writeJson(io, { sources: report });
  else
    for (const r of report)
      io.stderr(
        `${r.source}: ${r.queued} queued, ${r.unchanged} unchanged, ${r.deleted} deleted, ${r.held} deletions held\n`,
      );
  for (const s of failed) io.stderr(`error: ${s.uri}: ${s.last_error}\n`);
  return failed.length > 0 ? EXIT.usage : EXIT.ok;
}
