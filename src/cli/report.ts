// Waiting and reporting shared by `ingest --wait` and `run`: progress while
// documents move, then a summary with every failure and its reason code.
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
  g: GlobalOpts,
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
  void g;
  // Build the index now if the collection is idle; if another transaction holds it up,
  // the workers' maintenance tick builds it later.
  if (!result.timedOut) await buildMissingIndexes(rt.pool, { lockTimeoutMs: 5000 }).catch(() => undefined);
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

interface FailureRow {
  id: string;
  uri: string;
  error_code: string | null;
  error_message: string | null;
}

/** Prints the summary (JSON or text) and returns the exit code: 1 when any document failed. */
export async function reportIngest(
  rt: Runtime,
  io: CliIO,
  summary: IngestSummary,
  waited: Waited | undefined,
  g: GlobalOpts,
): Promise<number> {
  const { rows } = await rt.pool.query<FailureRow>(
    `SELECT id, uri, error_code, error_message FROM sluice.documents
     WHERE id = ANY($1::bigint[]) AND status = 'failed' ORDER BY uri`,
    [summary.ids],
  );
  const failures = rows.map((r) => ({
    id: Number(r.id),
    uri: r.uri,
    code: r.error_code,
    message: r.error_message,
  }));
  const counts = await rt.pool.query<{ n: string; c: string }>(
    `SELECT count(*) AS n, coalesce(sum((SELECT count(*) FROM sluice.chunks c WHERE c.document_id = d.id)), 0) AS c
     FROM sluice.documents d WHERE id = ANY($1::bigint[]) AND status = 'done'`,
    [summary.ids],
  );
  const done = Number(counts.rows[0]?.n ?? 0);
  const chunks = Number(counts.rows[0]?.c ?? 0);
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
