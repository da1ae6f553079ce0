// `sluice reindex`: build generation N+1 of a collection beside the active one
// with new settings (flags over config), price it first with --dry-run, wait for
// it with --wait, switch by itself with --auto-switch.
import type { Command } from 'commander';
import { withRuntime } from './context.ts';
import { estimateText } from './dry-run.ts';
import { generationJson, generationLine, settingsText } from './generation-view.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { optionalWholeNumber, timeoutSeconds } from './numbers.ts';
import { createProgress } from './progress.ts';

interface ReindexFlags extends GlobalOpts {
  collection?: string;
  embedder?: string;
  model?: string;
  dimensions?: string;
  chunkSize?: string;
  chunkOverlap?: string;
  autoSwitch?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
  budget?: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('reindex')
    .description(
      'rebuild a collection beside the generation searches use: with the flags changed, or (no flags) with the configured settings',
    )
    .option('--collection <name>', 'collection (default: SLUICE_COLLECTION or "default")')
    .option('--embedder <id>', "hash | openai | ollama | local (default: the active generation's)")
    .option('--model <name>', "embedding model (default: the active generation's, or the new embedder's)")
    .option('--dimensions <n>', "vector width (default: the active generation's, or the new model's native)")
    .option('--chunk-size <n>', "chunk size (default: the active generation's)")
    .option('--chunk-overlap <n>', "chunk overlap (default: the active generation's)")
    .option(
      '--budget <tokens>',
      'stop embedding for this build after this many tokens (raise by running again)',
    )
    .option('--auto-switch', 'make the new generation active as soon as it is complete')
    .option(
      '--dry-run',
      'read, extract and chunk with the new settings and report tokens and price; embed nothing',
    )
    .option('--wait', 'wait until the build is ready (with --auto-switch: active), showing progress')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 2)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: ReindexFlags, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const budget = optionalWholeNumber(opts.budget, '--budget', 1, 1_000_000_000_000);
      const timeout = timeoutSeconds(opts.timeout);
      // Checked here so "abc" is refused by name; the configuration checks each range.
      for (const [flag, value] of [
        ['--dimensions', opts.dimensions],
        ['--chunk-size', opts.chunkSize],
        ['--chunk-overlap', opts.chunkOverlap],
      ] as const)
        optionalWholeNumber(value, flag, 0, Number.MAX_SAFE_INTEGER);
      const config = readConfig(io, g, { collection: opts.collection });
      const code = await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const { estimateReindex, startReindex, targetConfig, waitForBuild } = await import(
          '../queue/reindex.ts'
        );
        const { getGeneration } = await import('../loaders/generations.ts');
        const active = await getGeneration(rt.pool, config.collection);
        if (!active) {
          throw new ExitError(
            EXIT.usage,
            `error: collection "${config.collection}" does not exist: ingest something first`,
          );
        }
        const flags = {
          embedder: opts.embedder,
          model: opts.model,
          dimensions: opts.dimensions,
          chunkSize: opts.chunkSize,
          chunkOverlap: opts.chunkOverlap,
        };
        const target = targetConfig(config, active, flags, (o) =>
          readConfig(io, g, { collection: opts.collection, ...o }),
        );
        const req = {
          collection: config.collection,
          target,
          autoSwitch: opts.autoSwitch === true,
          budgetTokens: budget,
        };
        if (opts.dryRun) {
          const est = await estimateReindex(rt, req);
          if (g.json) writeJson(io, { dryRun: true, collection: config.collection, ...est });
          else io.stdout(estimateText(est));
          return est.failures.length > 0 ? EXIT.someFailed : EXIT.ok;
        }
        const started = await startReindex(rt, req);
        const s = started.settings;
        if (!g.json) {
          io.stderr(
            `${started.resumed ? 'resumed' : 'started'} generation ${started.generation} of "${started.collection}" ` +
              `beside generation ${started.from}: ${settingsText({ ...s })}; ${started.documents} document(s) queued\n`,
          );
        }
        if (!opts.wait) {
          if (g.json) writeJson(io, started);
          else
            io.stderr(
              `follow it with \`sluice generations --collection ${started.collection}\`; ` +
                (opts.autoSwitch
                  ? 'it becomes active by itself when complete\n'
                  : `make it active with \`sluice switch ${started.collection}\` when it is ready\n`),
            );
          return EXIT.ok;
        }
        const bar = createProgress(io, `generation ${started.generation}`, { quiet: g.json === true });
        const waited = await waitForBuild(rt, started.collection, started.generation, {
          autoSwitch: opts.autoSwitch === true,
          ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
          onTick: (sum) => bar.update(sum.documents.done + sum.documents.failed, sum.documents.total),
        });
        bar.finish();
        const view = generationJson(waited.summary, config);
        if (g.json)
          writeJson(io, { ...started, result: view, timedOut: waited.timedOut, paused: waited.paused });
        else io.stdout(`${generationLine(view)}\n`);
        if (waited.timedOut)
          throw new ExitError(EXIT.usage, 'error: timed out waiting for the build; it goes on');
        if (waited.paused) {
          io.stderr(`build paused: ${waited.paused}\n`);
          return EXIT.someFailed;
        }
        return view.documents.failed > 0 ? EXIT.someFailed : EXIT.ok;
      });
      if (code !== EXIT.ok) throw new ExitError(code);
    });
}
