// `sluice status`: documents per status, queue depths per stage, recent failures,
// embedding cache counters.
import type { Command } from 'commander';
import { readCounters } from '../loaders/checkpoints.ts';
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
        const counts = await rt.pool.query<{ collection: string; status: string; n: string }>(
          `SELECT collection, status, count(*) AS n FROM sluice.documents
           WHERE $1::text IS NULL OR collection = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
          [filter],
        );
        const waiting = await rt.pool.query<{ n: string; msg: string | null }>(
          `SELECT count(*) AS n, max(error_message) AS msg FROM sluice.documents
           WHERE status = 'processing' AND error_code = 'CONFIG_ERROR' AND ($1::text IS NULL OR collection = $1)`,
          [filter],
        );
        // Documents indexed although the quality gate judged their text garbage (--accept-low-quality).
        const lowQuality = await rt.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM sluice.documents
           WHERE status = 'done' AND (metadata->'quality'->>'low')::boolean AND ($1::text IS NULL OR collection = $1)`,
          [filter],
        );
        const failures = await rt.pool.query<{
          id: string;
          uri: string;
          stage: string;
          error_code: string;
          error_message: string;
          updated_at: Date;
          quality: string | null;
        }>(
          `SELECT id, uri, stage, error_code, error_message, updated_at,
             metadata->'quality'->>'score' AS quality FROM sluice.documents
           WHERE status = 'failed' AND ($1::text IS NULL OR collection = $1) ORDER BY updated_at DESC LIMIT $2`,
          [filter, Number(opts.failures) || 10],
        );
        const documents: Record<string, Record<string, number>> = {};
        for (const r of counts.rows) {
          const byStatus = documents[r.collection] ?? {};
          byStatus[r.status] = Number(r.n);
          documents[r.collection] = byStatus;
        }
        const queues = await queueDepths(rt.queues);
        const counters = await readCounters(rt.pool);
        const hits = counters.embed_cache_hits ?? 0;
        const misses = counters.embed_cache_misses ?? 0;
        // Totals over every worker process since the database was created.
        const provider = {
          embedder: rt.embedder.id,
          model: rt.embedder.model,
          requests: counters.embed_requests ?? 0,
          tokens: counters.embed_tokens ?? 0,
          textsEmbedded: counters.embed_texts ?? 0,
          retries: counters.embed_retries ?? 0,
          rateLimited: counters.embed_rate_limited ?? 0,
        };
        const report = {
          documents,
          queues,
          embeddingCache: { hits, misses, hitRate: hits + misses > 0 ? hits / (hits + misses) : null },
          embeddingProvider: provider,
          waitingOnConfig: Number(waiting.rows[0]?.n ?? 0),
          lowQualityAccepted: Number(lowQuality.rows[0]?.n ?? 0),
          recentFailures: failures.rows.map((f) => ({
            id: Number(f.id),
            uri: f.uri,
            stage: f.stage,
            code: f.error_code,
            message: f.error_message,
            at: f.updated_at,
            /** The quality gate's score of the extracted text (null before extraction). */
            quality: f.quality === null ? null : Number(f.quality),
          })),
        };
        if (g.json) return writeJson(io, report);
        const out: string[] = [];
        out.push('documents:');
        if (counts.rows.length === 0) out.push('  (none yet)');
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
            `waiting on embedder configuration: ${report.waitingOnConfig} document(s): ${waiting.rows[0]?.msg ?? ''}`,
          );
        }
        if (report.lowQualityAccepted > 0) {
          out.push(
            `indexed despite low text quality (--accept-low-quality): ${report.lowQualityAccepted} document(s)`,
          );
        }
        if (report.recentFailures.length > 0) out.push('recent failures:');
        for (const f of report.recentFailures) {
          const quality = f.quality === null ? '' : ` (quality ${f.quality.toFixed(2)})`;
          out.push(
            `  #${f.id} ${displayName(f.uri)} [${f.stage ?? '-'}] ${f.code}${quality}: ${f.message ?? ''}`,
          );
        }
        io.stdout(`${out.join('\n')}\n`);
      });
    });
}
