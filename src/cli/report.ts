// Waiting and reporting shared by `ingest --wait` and `run`: progress while
// documents move, then a summary with every failure and its reason code.
import { ingestOutcome } from '../loaders/documents.ts';
import { buildMissingIndexes } from '../loaders/pgvector.ts';
import { displayName } from '../log.ts';
import { type IngestSummary, type WaitProgress, waitForDocuments } from '../queue/producer.ts';
import type { Runtime } from '../queue/runtime.ts';
import { type CliIO, EXIT, type GlobalOpts, writeJson } from './io.ts';
import { createProgress } from './progress.ts';

export type Waited = WaitProgress & { timedOut: boolean; seconds: number };

export async function waitWithProgress(
  rt: Runtime,
  io: CliIO,
  ids: number[],
  timeout?: string,
): Promise<Waited> {
  const started = Date.now();
  const progress = createProgress(io, 'ingesting');
  let warned = false;
  const timeoutMs = timeout ? Number(timeout) * 1000 : undefined;
  const result = await waitForDocuments(rt, ids, {
    ...(timeoutMs ? { timeoutMs } : {}),
    onTick: (p) => {
      progress.update(p.done + p.failed, p.total, p.failed ? `(${p.failed} failed)` : '');
      if (!warned && p.pending > 0 && Date.now() - started > 3000) {
        warned = true;
        void rt.queues.extract.getWorkersCount().then((n) => {
          if (n === 0) io.stderr('\nno workers are running: start `sluice worker` (or use `sluice run`)\n');
        });
      }
    },
  });
  progress.finish();
  // Build the index now if the collection is idle; if another transaction holds it up,
  // the workers' maintenance tick builds it later.
  if (!result.timedOut) await buildMissingIndexes(rt.pool, { lockTimeoutMs: 5000 }).catch(() => undefined);
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

/** Prints the summary (JSON or text) and returns the exit code: 1 when any document failed. */
export async function reportIngest(
  rt: Runtime,
  io: CliIO,
  summary: IngestSummary,
  waited: Waited | undefined,
  g: GlobalOpts,
): Promise<number> {
  const { done, chunks, failures } = await ingestOutcome(rt.pool, summary.ids);
  const timedOut = waited?.timedOut === true;
  if (g.json) {
    writeJson(io, {
      files: summary.files,
      queued: summary.queued,
      unchanged: summary.unchanged,
      inFlight: summary.inFlight,
      refused: summary.refused,
      done,
      failed: failures.length,
      chunks,
      pending: waited?.pending ?? null,
      seconds: waited?.seconds ?? null,
      timedOut,
      failures,
    });
  } else {
    if (waited) {
      const rate =
        waited.seconds > 0 ? ` (${(summary.waitIds.length / waited.seconds).toFixed(1)} docs/s)` : '';
      io.stderr(
        `done: ${done} document(s), ${chunks} chunk(s); failed: ${failures.length}; ` +
          `unchanged: ${summary.unchanged}; ${waited.seconds.toFixed(1)} s${rate}\n`,
      );
    }
    for (const f of failures) io.stderr(`  failed ${displayName(f.uri)}: ${f.code}: ${f.message ?? ''}\n`);
    if (timedOut) io.stderr(`timed out with ${waited?.pending} document(s) still in progress\n`);
  }
  if (timedOut) return EXIT.usage;
  return failures.length > 0 ? EXIT.someFailed : EXIT.ok;
}
