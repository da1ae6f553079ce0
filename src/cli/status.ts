// `sluice status`: documents per status, queue depths per stage, recent failures,
// embedding cache counters. Postgres answers first; the queue store (depths only) is
// asked last and fails fast: without it the rest is still shown, then exit 2.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { messageOf } from '../errors.ts';
import type { QueueDepths } from '../queue/queues.ts';
import { escapeControls } from '../terminal-text.ts';
import { withPool } from './context.ts';
import { type CliIO, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { wholeNumber } from './numbers.ts';

/** Queue depths per stage, or the one-line reason the queue store could not give them. */
async function readQueues(config: Config): Promise<Record<string, QueueDepths> | string> {
  const { connectQueueBackend } = await import('../queue/backend.ts');
  const { closeQueues, createQueues, queueDepths } = await import('../queue/queues.ts');
  try {
    const backend = await connectQueueBackend(config, { kind: 'producer', poolMax: 1 });
    const queues = createQueues(backend);
    try {
      return await queueDepths(queues);
    } finally {
      await closeQueues(queues).catch(() => undefined);
      await backend.close().catch(() => undefined);
    }
  } catch (err) {
    return messageOf(err);
  }
}

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
      const limit = wholeNumber(opts.failures, '--failures', 0, 1000);
      const unreachable = await withPool(config, async (pool) => {
        const { collectionHasDocuments, failedInCollection } = await import('../loaders/documents.ts');
        const { documentCounts, embeddingTotals, lowQualityAccepted, recentFailures, waitingOnConfig } =
          await import('../loaders/overview.ts');
        const { getCollection } = await import('../loaders/pgvector.ts');
        const { buildStatus, buildStatusLines } = await import('./build-status.ts');
        const filter = opts.collection ?? null;
        if (filter && !(await getCollection(pool, filter)) && !(await collectionHasDocuments(pool, filter))) {
          throw new ExitError(
            EXIT.usage,
            `error: collection "${filter}" does not exist: nothing was ingested into it`,
          );
        }
        const counts = await documentCounts(pool, filter);
        const waits = await waitingOnConfig(pool, filter);
        const failedTotal = await failedInCollection(pool, filter);
        const lowQuality = await lowQualityAccepted(pool, filter);
        const failures = await recentFailures(pool, { collection: filter, limit });
        const documents: Record<string, Record<string, number>> = {};
        for (const r of counts) {
          const byStatus = documents[r.collection] ?? {};
          byStatus[r.status] = r.n;
          documents[r.collection] = byStatus;
        }
        const queued = await readQueues(config);
        const queues = typeof queued === 'string' ? null : queued;
        const totals = await embeddingTotals(pool);
        const { heldDeletionsBySource } = await import('../loaders/sources.ts');
        const heldDeletions = await heldDeletionsBySource(pool, filter);
        // Totals over every worker process since the database was created.
        const provider = {
          embedder: config.embedder,
          model: config.embedModel ?? null,
          requests: totals.requests,
          tokens: totals.tokens,
          textsEmbedded: totals.texts,
          retries: totals.retries,
          rateLimited: totals.rateLimited,
        };
        const reindex = await buildStatus(pool, config, filter);
        const report = {
          reindex,
          documents,
          queues,
          embeddingCache: { hits: totals.cacheHits, misses: totals.cacheMisses, hitRate: totals.hitRate },
          embeddingProvider: provider,
          // Cache and provider counters are kept for the whole database, not per collection.
          countersScope: 'all collections',
          waitingOnConfig: waits.reduce((n, w) => n + w.n, 0),
          heldDeletions,
          failedTotal,
          lowQualityAccepted: lowQuality,
          recentFailures: failures.map(({ id, uri, status, stage, code, message, at, quality }) => ({
            id,
            uri,
            status,
            stage,
            code,
            message,
            at,
            quality,
          })),
        };
        if (g.json) {
          writeJson(io, { ...report, ...(queues ? {} : { queuesError: queued }) });
          return queues ? undefined : queued;
        }
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
        // BullMQ's failed count is per attempt and kept for days: the documents' failed count above is the truth.
        if (queues) {
          out.push('queues (waiting/active/delayed):');
          for (const [stage, d] of Object.entries(queues)) {
            out.push(`  ${stage.padEnd(8)} ${d.waiting}/${d.active}/${d.delayed}`);
          }
        } else out.push(`queues: unavailable (${queued})`);
        const scope = filter ? ' (all collections)' : '';
        const rate = report.embeddingCache.hitRate;
        out.push(
          `embedding cache${scope}: ${report.embeddingCache.hits} hits, ${report.embeddingCache.misses} misses${rate === null ? '' : ` (${(rate * 100).toFixed(1)}% hit rate)`}`,
        );
        out.push(
          `embedding provider${scope} ${provider.embedder}${provider.model ? ` "${provider.model}"` : ''}: ${provider.requests} requests, ` +
            `${provider.textsEmbedded} texts, ${provider.tokens} tokens, ${provider.retries} retries, ` +
            `${provider.rateLimited} rate-limited (429)`,
        );
        if (report.waitingOnConfig > 0) {
          out.push(
            `waiting on embedder configuration: ${report.waitingOnConfig} document(s): ${escapeControls(waits[0]?.message ?? '')}`,
          );
        }
        out.push(...buildStatusLines(reindex));
        for (const h of heldDeletions) {
          out.push(
            `deletions held: ${h.held} from ${escapeControls(h.source)} (over SLUICE_DELETE_GUARD); ` +
              `\`sluice sources approve-deletes ${escapeControls(h.source)}\` or \`discard-deletes\``,
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
          const stale = f.status === 'stale' ? ' (stale: serving the last good version)' : '';
          out.push(
            `  #${f.id} ${escapeControls(f.uri)}${stale} [${f.stage ?? '-'}] ${f.code}${quality}: ${escapeControls(f.message ?? '')}`,
          );
        }
        const more = report.failedTotal - report.recentFailures.length;
        if (more > 0)
          out.push(
            `  … and ${more} more (--failures N to list more; \`sluice retry --failed\` re-queues them)`,
          );
        io.stdout(`${out.join('\n')}\n`);
        return queues ? undefined : queued;
      });
      if (unreachable) throw new ExitError(EXIT.usage, `error: ${unreachable}`);
    });
}
