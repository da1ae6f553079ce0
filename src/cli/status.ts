// `sluice status`: documents per status, queue depths per stage, recent failures,
// embedding cache counters.
import type { Command } from 'commander';
import { documentCounts, embeddingTotals, recentFailures, waitingOnConfig } from '../loaders/overview.ts';
import { displayName } from '../log.ts';
import { queueDepths } from '../queue/queues.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('status')
    .description('documents per status, queue depths per stage, recent failures with reasons')
    .option('--collection <name>', 'only this collection')
    .option('--failures <n>', 'how many recent failures to list', '10')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: { collection?: string; failures: string; json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g, { collection: opts.collection }); // validates the name
      await withRuntime(config, cliLogger(io, config, g), 'producer', async (rt) => {
        const filter = opts.collection ?? null;
        const counts = await documentCounts(rt.pool, filter);
        const waits = await waitingOnConfig(rt.pool, filter);
        const failures = await recentFailures(rt.pool, {
          collection: filter,
          limit: Number(opts.failures) || 10,
        });
        const documents: Record<string, Record<string, number>> = {};
        for (const r of counts) {
          const byStatus = documents[r.collection] ?? {};
          byStatus[r.status] = r.n;
          documents[r.collection] = byStatus;
        }
        const queues = await queueDepths(rt.queues);
        const totals = await embeddingTotals(rt.pool);
        const { cacheHits: hits, cacheMisses: misses } = totals;
        const { requests, tokens, texts: textsEmbedded, retries, rateLimited } = totals;
        const provider = {
          embedder: rt.embedder.id,
          model: rt.embedder.model,
          requests,
          tokens,
          textsEmbedded,
          retries,
          rateLimited,
        };
        const report = {
          documents,
          queues,
          embeddingCache: { hits, misses, hitRate: totals.hitRate },
          embeddingProvider: provider,
          waitingOnConfig: waits.reduce((n, w) => n + w.n, 0),
          recentFailures: failures.map((f) => ({
            id: f.id,
            uri: f.uri,
            stage: f.stage,
            code: f.code,
            message: f.message,
            at: f.at,
          })),
        };
        if (g.json) return writeJson(io, report);
        const out: string[] = [];
        out.push('documents:');
        if (counts.length === 0) out.push('  (none yet)');
        for (const [collection, byStatus] of Object.entries(documents)) {
          out.push(
            `  ${collection}: ${Object.entries(byStatus)
              .map(([s, n]) => `${s} ${n}`)
              .join(', ')}`,
          );
        }
        out.push('queues (waiting/active/delayed/failed):');
        for (const [stage, d] of Object.entries(queues)) {
          out.push(`  ${stage.padEnd(8)} ${d.waiting}/${d.active}/${d.delayed}/${d.failed}`);
        }
        const rate = report.embeddingCache.hitRate;
        out.push(
          `embedding cache: ${hits} hits, ${misses} misses${rate === null ? '' : ` (${(rate * 100).toFixed(1)}% hit rate)`}`,
        );
        out.push(
          `embedding provider ${provider.embedder} "${provider.model}": ${provider.requests} requests, ` +
            `${provider.textsEmbedded} texts, ${provider.tokens} tokens, ${provider.retries} retries, ` +
            `${provider.rateLimited} rate-limited (429)`,
        );
        if (report.waitingOnConfig > 0) {
          out.push(
            `waiting on embedder configuration: ${report.waitingOnConfig} document(s): ${waits[0]?.message ?? ''}`,
          );
        }
        if (report.recentFailures.length > 0) out.push('recent failures:');
        for (const f of report.recentFailures) {
          out.push(`  #${f.id} ${displayName(f.uri)} [${f.stage ?? '-'}] ${f.code}: ${f.message ?? ''}`);
        }
        io.stdout(`${out.join('\n')}\n`);
      });
    });
}
